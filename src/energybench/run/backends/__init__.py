"""Inference backends. Each runs warm-up and measured trials and returns `Trial`s; none
reads a meter directly: it opens and closes windows on the monitor it is given."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

RUN_USED_NO_GPU = "not counted: the run used no GPU"


def latencies(latency_s: float | None, ttft_s: float | None, alone: bool) -> dict:
    """Mean latency and time to first token of a prompt: as served (ours: its batch's, or its
    request's under the load) and, only when every prompt ran alone, AI Energy Score's (which
    times each prompt alone); unknown otherwise."""
    return {
        "avg_latency_seconds": latency_s if alone else None,
        "avg_time_to_first_token": ttft_s if alone else None,
        "avg_served_latency_seconds": latency_s,
        "avg_served_time_to_first_token": ttft_s,
    }


def throughputs(total_tokens: int, completion_tokens: int, duration_s: float) -> dict:
    """AI Energy Score's throughput (prompt + completion tokens per second) and ours
    (generated tokens per second), each ``None`` over an empty window."""
    if duration_s <= 0:
        return {"throughput_tokens_per_second": None, "completion_tokens_per_second": None}
    return {
        "throughput_tokens_per_second": total_tokens / duration_s,
        "completion_tokens_per_second": completion_tokens / duration_s,
    }


def repeat_passes(
    name: str,
    monitor,
    batches: list[list],
    run_batch,
    log,
    *,
    minimum_s: float,
    min_batches: int = 1,
) -> tuple[list, object, int]:
    """Whole passes over ``batches`` in one window ``name`` on ``monitor``, repeated until
    it lasts ``minimum_s`` (the shortest window its meters resolve well) and ran at least
    ``min_batches`` batches; ``run_batch(batch, first_pass)`` runs one. Returns every batch's
    result, the window and the number of passes; the first pass's progress goes to ``log``."""
    from energybench.run.progress import Progress

    results: list = []
    progress = Progress(name, sum(len(batch) for batch in batches), log)
    passes = 0
    monitor.begin_window(name)
    started = time.monotonic()  # after the window's start: it lasts at least as long
    try:
        while passes == 0 or len(results) < min_batches or time.monotonic() - started < minimum_s:
            for batch in batches:
                results.append(run_batch(batch, passes == 0))
                if passes == 0:
                    progress.advance(len(batch))
            passes += 1
    finally:
        window = monitor.end_window(name)
    log.info("%s: %d passes of %d batches in %.2f s", name, passes, len(batches), window.duration_s)
    return results, window, passes


@dataclass
class Trial:
    """One repetition of the measured part of a run.

    ``window`` is the headline window (all prompts, full output); ``summary`` holds the AI
    Energy Score summary figures of that window; ``phase_windows`` are further windows a
    backend measures (pytorch: ``prefill``; vllm: ``steady_state``). ``extra`` holds what a
    backend reports beyond that (vllm: per-request latencies, the load's timeline).
    ``failure`` says why the trial makes the run fail although it completed (vllm: too many
    failed requests); ``None`` when it does not. ``checks`` are the backend's own checks of the
    trial (vllm: the stream was read on time).
    """

    index: int
    summary: dict
    window: object  # energybench.run.meters.WindowMeasurement
    phase_windows: dict = field(default_factory=dict)
    cooldown: dict | None = None
    extra: dict = field(default_factory=dict)
    failure: str | None = None
    checks: list = field(default_factory=list)
    """The backend's own checks of the trial (energybench.run.energy.checks.Check)."""


class Backend(ABC):
    """One way of running inference. A run (energybench.run.benchmark) creates the backend of its
    config, then calls ``warm_up()`` and ``run_trial(index, monitor)``; ``info()`` goes into the
    report. The backend says which ``device`` it ran on, which components' energy does not
    belong to the run (``uncounted``), and releases what it holds outside this process when
    closed (a server).

    What the *workflow* needs of a backend, before any run, is declared by class methods on
    run configs (plain dicts): ``resources`` (Snakemake resources beyond the job's GPUs),
    ``secrets`` (environment variables the run needs, handed over by name, each checked to be
    set before any run) and ``config_problems`` (settings that contradict each other). A backend with a block of its
    own in the model settings (named after it, declared in the model settings' schema) parses
    it in ``parse_settings``, once per run config: its settings type holds the block's
    defaults, and ``RunConfig.backend_settings`` the result. The workflow imports the
    backend's module to ask, so keep its heavy imports (torch, a server) inside functions.

    To add a backend: subclass this in ``energybench/run/backends/<name>``, set ``name``, and
    list the class in ``BACKENDS`` (energybench.run.backend_registry) and the name in the model
    settings' schema.
    """

    name: ClassVar[str]
    spreads_over_gpus: ClassVar[bool] = False
    """Whether one run spreads a model over every GPU its job holds (AI Energy Score's layout,
    which ``preset: aes`` reproduces by giving such a model every GPU of the machine)."""
    quantizes_weights: ClassVar[bool] = False
    """Whether the backend loads the weights itself and can quantize them as they load (the
    ``quantization`` setting, energybench.run.quantization)."""
    device: str

    @abstractmethod
    def __init__(self, cfg, run_dir: Path):
        """Load what the run needs; files the backend keeps (a server's log) go to ``run_dir``."""

    @abstractmethod
    def info(self) -> dict:
        """What the report records of the backend (name, versions, settings)."""

    @abstractmethod
    def warm_up(self) -> None:
        """Run the warm-up prompts, unmeasured."""

    @abstractmethod
    def run_trial(self, index: int, monitor) -> Trial:
        """One measured repetition, its windows opened and closed on ``monitor``."""

    @property
    def uncounted(self) -> dict[str, str]:
        """Components whose energy does not belong to the run, with the reason: GPUs a run on
        this host left idle."""
        return {} if self.device == "cuda" else {"gpu": RUN_USED_NO_GPU}

    def peak_memory(self) -> dict:
        """The framework's own peaks of the run's device so far, in bytes:
        ``framework_allocated_bytes`` (by tensors) and ``framework_reserved_bytes`` (by its
        caching allocator), or both ``None`` with ``framework_reason``."""
        return {
            "framework_allocated_bytes": None,
            "framework_reserved_bytes": None,
            "framework_reason": f"the {self.name} backend reads no framework peak",
        }

    def close(self) -> None:
        """Release what the backend holds outside this process (a server); nothing by default."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @classmethod
    def parse_settings(cls, run_config: Mapping) -> object | None:
        """The backend's own block of a resolved run config (a dict, checked against the
        schema), parsed into its settings type with every default filled; None by default."""
        return None

    @classmethod
    def resources(cls, run_config: dict) -> dict[str, int]:
        """Snakemake resources the model's job takes besides its GPUs (see JOB_RESOURCES)."""
        return {}

    @classmethod
    def secrets(cls, run_config: dict) -> dict[str, str]:
        """The environment variables the run reads a secret from, each with the setting that
        names it (``{"MY_KEY": "vllm.api_key_env"}``): the job hands them to the run by name
        (values never leave the environment), and the workflow refuses to start while one is
        not set (energybench.job.secrets.unset_secrets)."""
        return {}

    @classmethod
    def config_problems(cls, run_config: dict) -> list[str]:
        """Settings of a resolved run config that contradict each other or this machine, one
        sentence each; never a secret's value."""
        return []

    @classmethod
    def task_problems(cls, run_config: Mapping) -> list[str]:
        """Settings of the run config's task that this class, which runs the task on its
        backend (energybench.run.tasks), cannot run, one sentence each naming the field."""
        return []

    @classmethod
    def gpus_when_auto(cls, run_config: dict) -> int:
        """The GPUs a run with ``gpus: auto`` takes on a machine that has GPUs: one."""
        return 1

    @classmethod
    def metered_gpus(cls, cfg) -> list[int | str] | None:
        """The GPUs the run's meters watch, where the backend knows better than "every GPU
        visible to the run" (``None``)."""
        return None


class NoGpuVisible(RuntimeError):
    """The run's settings say CUDA, or its job holds GPUs, but torch sees no CUDA device."""


def resolve_device(requested: str, gpus_held: int | None) -> str:
    """The device a run uses. ``auto``: cuda when its job holds GPUs (``gpus_held``), else
    cpu; for a run started by hand (``None``), cuda where torch sees one. A run that should
    use CUDA but sees none fails here, never falls back to the CPU."""
    import torch

    device = requested
    if requested == "auto":
        wants_cuda = torch.cuda.is_available() if gpus_held is None else gpus_held > 0
        device = "cuda" if wants_cuda else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        held = "" if gpus_held is None else f", and its job holds {gpus_held} GPU(s)"
        raise NoGpuVisible(
            f"the run's device is {requested!r}{held}, but torch sees no CUDA device "
            "(no NVIDIA driver, a CPU-only torch, or the devices are hidden); set device: cpu "
            "to run on the CPU, or fix the GPU set-up"
        )
    return device
