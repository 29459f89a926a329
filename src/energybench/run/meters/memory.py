"""Peak memory of a run: the host's (the kernel's high-water marks: a container's cgroup, or
the run's processes), and the GPUs' (the highest of the memory NVML reported in use at each
sample of the power timeline)."""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
# cgroup v2 (Linux 5.19 and newer), then v1: the most memory the cgroup has held.
CGROUP_PEAK_FILES = ("memory.peak", "memory/memory.max_usage_in_bytes")
GPU_MEMORY_FIELD = "memory_used_bytes"
# The RAM estimate samples the resident memory of the run's whole process tree.
TREE_MEMORY_FIELD = "resident_gb"


@dataclass(frozen=True)
class PeakMemory:
    """Bytes, or ``None`` with the reason; ``source`` says what was read."""

    bytes: int | None
    source: str | None
    reason: str | None = None


def host_peak(*, in_container: bool, records: list[dict] = (), cgroup: Path = CGROUP) -> PeakMemory:
    """A container's peak is its cgroup's (every process in it, page cache included). A run
    in its own process has the kernel's peak resident set of that process and of its largest
    finished child (``getrusage``): a peak of each, not of their sum, which no counter keeps;
    where the timeline ``records`` sampled the resident memory of the whole process tree (the
    RAM estimate does), the higher of the two."""
    if in_container:
        for name in CGROUP_PEAK_FILES:
            try:
                return PeakMemory(int((cgroup / name).read_text()), f"container cgroup {name}")
            except (OSError, ValueError):
                continue
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    source = (
        "getrusage: peak resident set of the run's process, or of its largest finished "
        "child where that is higher (KiB on Linux)"
    )
    peak = max(own, children) * 1024
    tree = [r[TREE_MEMORY_FIELD] for r in records if r.get(TREE_MEMORY_FIELD) is not None]
    if tree and max(tree) * 1e9 > peak:
        peak = int(max(tree) * 1e9)
        source = (
            "the run's process tree, resident memory sampled with the power timeline "
            "(the RAM estimate's readings)"
        )
    note = (
        None
        if not in_container
        else f"no cgroup peak readable under {cgroup}: the run's own processes measured instead"
    )
    return PeakMemory(peak, source, note)


def gpu_peaks(
    records: list[dict], devices: list[str]
) -> tuple[dict[str, int | None] | None, str | None]:
    """Each GPU's highest memory in use over the timeline ``records`` (NVML's, the whole
    device's), ``None`` for a device that never reported it; ``(None, reason)`` without
    GPUs."""
    if not devices:
        return None, "no GPU metered"
    peaks: dict[str, int | None] = dict.fromkeys(devices)
    for record in records:
        used = record.get(GPU_MEMORY_FIELD)
        if record["device"] in peaks and used is not None:
            peaks[record["device"]] = max(used, peaks[record["device"]] or 0)
    unread = [d for d, v in peaks.items() if v is None]
    return peaks, (f"NVML reported no memory in use for {', '.join(unread)}" if unread else None)
