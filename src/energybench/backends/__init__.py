"""Inference backends. Each runs warm-up and measured trials and returns `Trial`s; none
reads a meter directly: it opens and closes windows on the monitor it is given."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Trial:
    """One repetition of the measured part of a run.

    ``window`` is the headline window (all prompts, full output); ``summary`` holds the AI
    Energy Score summary figures of that window; ``phase_windows`` are further windows a
    backend measures (pytorch: ``prefill``).
    """

    index: int
    summary: dict
    window: object  # energybench.meters.WindowMeasurement
    phase_windows: dict = field(default_factory=dict)
    cooldown: dict | None = None


def create_backend(cfg):
    if cfg.backend == "pytorch":
        from energybench.backends.pytorch import PyTorchBackend

        return PyTorchBackend(cfg)
    raise ValueError(f"model {cfg.model}: unknown backend {cfg.backend!r}")
