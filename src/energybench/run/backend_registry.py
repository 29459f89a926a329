"""The backends by name: each backend's class, imported on first use, and what the workflow and
the run ask of the backend a model names (its GPUs, resources, settings, meters). The settings
ask through here, by name, so they depend on no backend's code, and a backend's module, which
builds on the settings, is imported only when a run or a check needs it."""

from __future__ import annotations

import importlib
from pathlib import Path

from energybench.run.tasks import task_named

# The registry: backend name -> the class implementing it, imported on first use.
BACKENDS = {
    "pytorch": "energybench.run.backends.pytorch:PyTorchBackend",
    "vllm": "energybench.run.backends.vllm.backend:VLLMBackend",
}
# The backend that sends a model's load to an OpenAI-compatible server (the campaign's
# `endpoint`, energybench.plan.campaign_settings).
ENDPOINT_BACKEND = "vllm"
# Resources a benchmark job may take (the rule declares each): the job's GPUs, and one slot
# of an external endpoint (so that two runs never load one server at once).
JOB_RESOURCES = ("gpu", "endpoint")


def backend_class(name: str) -> type:
    """The backend class (a subclass of energybench.run.backends.Backend) named ``name``."""
    try:
        module, _, attribute = BACKENDS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}") from None
    return getattr(importlib.import_module(module), attribute)


AUTO_GPUS = "auto"


def planned_gpus(run_config: dict, machine_has_gpus: bool) -> int:
    """The GPUs a model's job takes: its ``gpus``, or for ``auto`` what its backend needs
    where the machine that runs the jobs has GPUs and the settings do not ask for the CPU."""
    gpus = run_config["gpus"]
    if gpus != AUTO_GPUS:
        return gpus
    if not machine_has_gpus or run_config.get("device") == "cpu":
        return 0
    return backend_class(run_config["backend"]).gpus_when_auto(run_config)


def planned_on_the_cpu_for_want_of_gpus(run_configs: dict[str, dict]) -> list[str]:
    """The models that ``gpus: auto`` would give GPUs on a machine with GPUs: where the
    machine that plans sees none (a laptop, or a cluster's submit host without node_gpus),
    they are planned on the CPU, which the user should hear."""
    return [
        key
        for key, cfg in run_configs.items()
        if cfg["gpus"] == AUTO_GPUS and planned_gpus(cfg, machine_has_gpus=True) > 0
    ]


def sent_to_endpoint(run_config: dict, url: str) -> dict:
    """``run_config`` as a model of the OpenAI-compatible server at ``url``."""
    return backend_class(ENDPOINT_BACKEND).sent_to(run_config, url)


def job_resources(run_config: dict, machine_has_gpus: bool) -> dict[str, int]:
    """Every resource in JOB_RESOURCES that a model's benchmark job takes (0 when none)."""
    declared = backend_class(run_config["backend"]).resources(run_config)
    return {
        **dict.fromkeys(JOB_RESOURCES, 0),
        "gpu": planned_gpus(run_config, machine_has_gpus),
        **declared,
    }


def metered_gpu_devices(cfg) -> list[int | str] | None:
    """The GPUs the run's meters watch when the backend names them; ``None``: every GPU
    visible to the run."""
    return backend_class(cfg.backend).metered_gpus(cfg)


def create_backend(cfg, run_dir: Path):
    """The class that runs ``cfg``'s task on its backend (energybench.run.tasks), created; files
    it keeps (a server's log) go to ``run_dir``."""
    return task_named(cfg.task).implementation(cfg.backend)(cfg, run_dir)
