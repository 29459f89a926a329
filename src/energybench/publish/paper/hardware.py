"""What a run ran on, as the labels and the leaderboard show it (importable without
matplotlib): the hardware whose energy it counts, how many GPUs, how many parameters."""

from __future__ import annotations

from energybench.run.report import Report


def hardware_of(report: Report) -> str:
    """The GPU(s) the run was metered on, else the CPU model. The meters watch the host's
    GPUs even for a run that counts none (a CPU run, an external endpoint): only GPUs whose
    energy the run counts are its hardware, and a run that counts neither GPU nor CPU ran
    elsewhere."""
    energy = report.energy
    gpus = report.provenance.metered_gpus if energy.gpu.devices or not report.succeeded else []
    if gpus:
        return f"{len(gpus)} x {gpus[0]}" if len(set(gpus)) == 1 else ", ".join(gpus)
    if energy.components["cpu"].devices or not report.succeeded:
        return f"CPU: {report.provenance.cpu_model or 'unknown'}"
    return f"not metered here ({energy.components['cpu'].reason or 'no reason recorded'})"


def gpu_count(report: Report) -> int | None:
    """The GPUs whose energy the run counts (0 for a run that counts none); None for a
    failed run, which may have stopped before it placed the model."""
    if not report.succeeded:
        return None
    return len(report.energy.gpu.devices)


def parameter_count(report: Report) -> int | None:
    """The model's parameters, as its backend counted them; None where it did not."""
    # provenance.backend is kept in the section's extra: naming it in sections.Provenance
    # would change the run's code digest and rerun every benchmark (docs/ARCHITECTURE.md).
    count = (report.provenance.backend or {}).get("parameters")
    return count if isinstance(count, int) and not isinstance(count, bool) else None
