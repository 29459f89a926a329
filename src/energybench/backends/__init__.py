"""Inference backends. Each runs warm-up and measured trials and returns `Trial`s; none
reads a meter directly: it opens and closes windows on the monitor it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

RUN_USED_NO_GPU = "not counted: the run used no GPU"


def latencies(latency_s: float | None, ttft_s: float | None, alone: bool) -> dict:
    """Mean latency and time to first token of a prompt: as served (ours: its batch's, or its
    request's under the load) and, only when every prompt ran alone, AI Energy Score's (which
    times each prompt alone); unknown otherwise."""
    return {"avg_latency_seconds": latency_s if alone else None,
            "avg_time_to_first_token": ttft_s if alone else None,
            "avg_served_latency_seconds": latency_s,
            "avg_served_time_to_first_token": ttft_s}


def throughputs(total_tokens: int, completion_tokens: int, duration_s: float) -> dict:
    """AI Energy Score's throughput (prompt + completion tokens per second) and ours
    (generated tokens per second), each ``None`` over an empty window."""
    if duration_s <= 0:
        return {"throughput_tokens_per_second": None, "completion_tokens_per_second": None}
    return {"throughput_tokens_per_second": total_tokens / duration_s,
            "completion_tokens_per_second": completion_tokens / duration_s}


@dataclass
class Trial:
    """One repetition of the measured part of a run.

    ``window`` is the headline window (all prompts, full output); ``summary`` holds the AI
    Energy Score summary figures of that window; ``phase_windows`` are further windows a
    backend measures (pytorch: ``prefill``; vllm: ``steady_state``). ``extra`` holds what a
    backend reports beyond that (vllm: per-request latencies, the load's timeline).
    ``failure`` says why the trial makes the run fail although it completed (vllm: too many
    failed requests); ``None`` when it does not.
    """

    index: int
    summary: dict
    window: object  # energybench.meters.WindowMeasurement
    phase_windows: dict = field(default_factory=dict)
    cooldown: dict | None = None
    extra: dict = field(default_factory=dict)
    failure: str | None = None


class Backend:
    """What the engine needs of a backend besides ``info()``, ``warm_up()`` and
    ``run_trial(index, monitor)``: the ``device`` it runs on, which components' energy belongs
    to the run, and a context manager that releases what it holds outside this process."""

    device: str

    @property
    def uncounted(self) -> dict[str, str]:
        """Components whose energy does not belong to the run, with the reason: GPUs a run on
        this host left idle."""
        return {} if self.device == "cuda" else {"gpu": RUN_USED_NO_GPU}

    def close(self) -> None:
        """Release what the backend holds outside this process (a server); nothing by default."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def metered_gpu_devices(cfg) -> list[int | str] | None:
    """The GPUs the run's meters watch when the backend names them (an external endpoint on
    this machine: ``vllm.meter_devices``); ``None``: every GPU visible to the run."""
    if cfg.backend == "vllm":
        from energybench.backends.vllm.settings import VLLMSettings

        return VLLMSettings.from_run_config(cfg).local_gpus_to_meter
    return None


def create_backend(cfg, run_dir: Path) -> Backend:
    """The backend of ``cfg``; files it keeps (a server's log) go to ``run_dir``."""
    if cfg.backend == "pytorch":
        from energybench.backends.pytorch import PyTorchBackend

        return PyTorchBackend(cfg)
    if cfg.backend == "vllm":
        from energybench.backends.vllm.backend import VLLMBackend

        return VLLMBackend(cfg, run_dir)
    raise ValueError(f"model {cfg.model}: unknown backend {cfg.backend!r}")
