"""Rough CPU and RAM energy estimates, used only when no counter can be read for the component.

Both are models, not measurements, and every figure they produce says ``estimated: true`` and
carries the model and its constants in ``detail``.

CPU: energy = ``watts_per_core`` × busy CPU-seconds, where busy CPU-seconds are the system-wide
non-idle time from /proc/stat (user, nice, system, irq, softirq, steal) over the window. That
is, a core running flat out draws ``watts_per_core`` and an idle core draws nothing. The
default, 10 W per core, is a server CPU's TDP divided by its cores (e.g. 205 W / 24 cores ≈
8.5 W; 125 W / 8 cores ≈ 16 W): a rough figure, easily off by a factor of two. It counts all
processes on the machine (as RAPL would), not only the benchmark. Idle and uncore power are
not modelled.

RAM: constant power of ``watts_per_gb`` × installed memory, CodeCarbon's 3 W per 8 GB
(0.375 W/GB). It does not depend on load, so its net (dynamic) energy is zero by construction.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from energybench.meters.base import Meter
from energybench.meters.measurement import ESTIMATE, ComponentEnergy
from energybench.meters.timeline import Timeline

DEFAULT_WATTS_PER_CORE = 10.0
DEFAULT_WATTS_PER_GB = 3.0 / 8.0

# /proc/stat "cpu" columns: user nice system idle iowait irq softirq steal (guest is in user)
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)


def read_busy_cpu_seconds(proc_stat: Path = Path("/proc/stat")) -> float:
    """System-wide non-idle CPU time (seconds summed over all cores) since boot."""
    with proc_stat.open() as lines:
        for line in lines:
            if line.startswith("cpu "):
                ticks = [int(v) for v in line.split()[1:]]
                return sum(ticks[i] for i in _BUSY_COLUMNS if i < len(ticks)) / os.sysconf("SC_CLK_TCK")
    raise ValueError(f"no aggregate 'cpu' line in {proc_stat}")


def read_total_memory_gb(meminfo: Path = Path("/proc/meminfo")) -> float:
    with meminfo.open() as lines:
        for line in lines:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / 1e9
    raise ValueError(f"no MemTotal line in {meminfo}")


def process_cpu_seconds() -> float:
    """CPU time of this process and its reaped children, for comparison in ``detail``."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _EstimateMeter(Meter):
    """A model standing in for a component's counter; ``model`` holds its constants."""

    device: str
    model: dict
    timeline_source = ESTIMATE
    estimated = True

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why  # why nothing could be read, so the model stands in

    def device_ids(self) -> list[str]:
        return [self.device]

    def describe(self) -> dict:
        return {"meter": "estimate", "component": self.component, "why": self.why, **self.model}


class CpuEstimateMeter(_EstimateMeter):
    component = "cpu"
    device = "cpu-estimate"

    def __init__(self, why: str, *, watts_per_core: float = DEFAULT_WATTS_PER_CORE, proc_stat: Path = Path("/proc/stat")) -> None:
        super().__init__(why)
        self.watts_per_core = watts_per_core
        self._proc_stat = proc_stat
        self._lock = threading.Lock()
        self._last: tuple[float, float] | None = None  # (t, busy seconds) of the previous sample
        self._starts: dict[str, tuple[float, float]] = {}
        self.model = {
            "model": "watts_per_core × busy CPU-seconds (system-wide, /proc/stat)",
            "watts_per_core": watts_per_core,
            "cores": os.cpu_count(),
        }

    def _begin(self, name: str, t: float) -> None:
        self._starts[name] = (read_busy_cpu_seconds(self._proc_stat), process_cpu_seconds())

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        busy_start, process_start = self._starts.pop(name)
        busy = read_busy_cpu_seconds(self._proc_stat) - busy_start
        detail = {
            **self.model,
            "busy_cpu_seconds": busy,
            "average_busy_cores": busy / (end - start) if end > start else None,
            "process_cpu_seconds": process_cpu_seconds() - process_start,
            "per_device_j": {self.device: self.watts_per_core * busy},
            # /proc/stat counts in clock ticks (USER_HZ), read at both edges
            "resolution_j": 2 * self.watts_per_core / os.sysconf("SC_CLK_TCK"),
        }
        return ComponentEnergy(
            "cpu", self.watts_per_core * busy, ESTIMATE, estimated=True, reason=self.why,
            devices=[self.device], detail=detail,
        )

    def sample(self, t: float) -> list[dict]:
        busy = read_busy_cpu_seconds(self._proc_stat)
        with self._lock:
            previous, self._last = self._last, (t, busy)
        if previous is None or t <= previous[0]:
            return []
        cores = (busy - previous[1]) / (t - previous[0])
        return [{
            "t": t, "device": self.device, "component": "cpu", "estimated": True,
            "power_w": self.watts_per_core * cores, "utilization_pct": 100.0 * cores / (os.cpu_count() or 1),
        }]


class RamEstimateMeter(_EstimateMeter):
    component = "ram"
    device = "ram-estimate"

    def __init__(self, why: str, *, watts_per_gb: float = DEFAULT_WATTS_PER_GB, meminfo: Path = Path("/proc/meminfo")) -> None:
        super().__init__(why)
        memory_gb = read_total_memory_gb(meminfo)
        self.watts = watts_per_gb * memory_gb
        self.model = {
            "model": "constant watts_per_gb × installed memory (CodeCarbon's 3 W per 8 GB)",
            "watts_per_gb": watts_per_gb,
            "memory_gb": memory_gb,
            "watts": self.watts,
        }

    def _begin(self, name: str, t: float) -> None:
        pass

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        joules = self.watts * (end - start)
        return ComponentEnergy(
            "ram", joules, ESTIMATE, estimated=True, reason=self.why, devices=[self.device],
            detail={**self.model, "per_device_j": {self.device: joules}},
        )

    def sample(self, t: float) -> list[dict]:
        return [{"t": t, "device": self.device, "component": "ram", "estimated": True, "power_w": self.watts}]
