"""The AI Energy Score generation protocol as one switch (``--config preset=aes``).

AES's batch runner sends one prompt at a time from its text-generation dataset's ``text``
column, samples at temperature 0.7, generates exactly 10 new tokens with reasoning off and
lets the model stop on its own up to 8,192 with reasoning on (at least 1), over 10 prompts
unless told otherwise (its ``-n``: the campaign's ``num_prompts``), each model spread over
every GPU of the node (``device_map: auto``); an image-generation model makes one image per
prompt, one prompt at a time, from the image prompt set of AES's earlier leaderboard. The preset sets exactly
these settings on every model, over what models.yaml says, so a figure compares with AES's.
Whether a row of an AES list counts as reasoning is decided when the list is read
(energybench.aes.runner_protocol).
"""

from __future__ import annotations

from energybench.run.backend_registry import AUTO_GPUS
from energybench.run.errors import ConfigError
from energybench.run.tasks import task_named

AES = "aes"
# Every task's: one prompt at a time, 10 prompts, from the task's AES prompt set and column
# (energybench.run.tasks).
AES_COMMON = {"batch_size": 1, "num_prompts": 10, "dataset_split": "train"}
AES_TEXT = {"temperature": 0.7}
AES_TOKENS = {  # by reasoning on/off
    False: {"max_new_tokens": 10, "min_new_tokens": 10},
    True: {"max_new_tokens": 8192, "min_new_tokens": 1},
}
PRESETS = (AES,)


def aes_protocol(run_config: dict) -> dict:
    """The settings AES's protocol sets on a model of ``run_config``'s task. Image
    generation: one image per prompt; AES states no steps, resolution or guidance, so the
    model's own settings (or its pipeline's defaults) stay."""
    task = task_named(run_config.get("task"))
    protocol = {**AES_COMMON, "dataset": task.aes_dataset, "dataset_column": task.dataset_column}
    if task.aes_block:
        protocol[task.name] = {**(run_config.get(task.name) or {}), **task.aes_block}
    if task.generates_tokens:
        protocol |= {**AES_TEXT, **AES_TOKENS[bool(run_config["reasoning"])]}
    return protocol


def spreads_over_every_gpu(run_config: dict) -> bool:
    """Whether AES's device layout gives the model every GPU of the machine that runs its
    job: its backend spreads it over its GPUs, and its settings state no count nor the CPU."""
    task = task_named(run_config.get("task"))
    # The class that runs the model's task on its backend (image generation takes one GPU);
    # a task its backend does not run is refused by the checks that follow.
    spread = (
        task.runs_on(run_config["backend"])
        and task.implementation(run_config["backend"]).spreads_over_gpus
    )
    return spread and run_config["gpus"] == AUTO_GPUS and run_config.get("device") != "cpu"


def aes_gpus(run_config: dict, node_gpus: int | None) -> int | str:
    """AES's device layout in the settings: a model spread over every GPU
    (:func:`spreads_over_every_gpu`) gets ``node_gpus``, the count the config states for the
    machines that run the jobs. Without it (None) the settings keep ``auto`` and the count is
    the job's (:func:`aes_job_gpus`), resolved where it runs and recorded in its report
    (``provenance.runtime.gpus``): the GPUs of the host that parses the workflow never enter
    the settings, which a SLURM job's node, parsing it again, would count otherwise."""
    if not spreads_over_every_gpu(run_config) or not node_gpus:
        return run_config["gpus"]
    return node_gpus


def aes_job_gpus(run_config: dict, machine_gpus: int) -> int | None:
    """The GPUs the job of a model under AES's preset takes where its settings keep ``auto``
    (:func:`aes_gpus`): every GPU of the machine that runs it; None where the preset decides
    nothing (the backend's own ``auto`` holds)."""
    if run_config.get("protocol") != AES or not spreads_over_every_gpu(run_config):
        return None
    return machine_gpus or None


def apply_preset(preset: str | None, run_config: dict, node_gpus: int | None = None) -> dict:
    """``run_config`` under ``preset`` (``None``: unchanged), recording the protocol;
    ``node_gpus``: the GPUs the config states for the machines that run the jobs (None:
    auto)."""
    if preset is None:
        return run_config
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    return {
        **run_config,
        **aes_protocol(run_config),
        "gpus": aes_gpus(run_config, node_gpus),
        "protocol": preset,
    }
