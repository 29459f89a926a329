"""Rough CPU and RAM energy estimates, used only when no counter can be read for the component.

Both are models, not measurements, and every figure they produce says ``estimated: true`` and
carries the model, its constants and what it assumes in ``detail``. Both charge the run's own
processes (this process and all its descendants, read from /proc), not the host: inside a
container /proc/stat and MemTotal describe the whole host, and on a large shared host most of
its cores and memory belong to others.

CPU: energy = ``watts_per_core`` × the run's CPU-seconds × (physical cores / logical CPUs).
A physical core running flat out draws ``watts_per_core`` (default 10 W: a server CPU's TDP
over its cores, e.g. 205 W / 24 ≈ 8.5 W, 125 W / 8 ≈ 16 W); with SMT two logical CPUs share
one core, so a logical CPU-second is charged half a core-second. Idle, uncore and other
processes' power are not modelled. Easily off by a factor of two.

RAM: power = ``watts_per_gb`` × the memory the run holds (resident set of its processes),
sampled and integrated; 0.375 W/GB (3 W per 8 GB, Green Algorithms' and CodeCarbon's figure)
applied to memory in use, as Green Algorithms does, not to the host's installed memory (which
charged a 2 TB host's 750 W to one single-GPU job). Bandwidth-dependent power is not modelled.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from energybench.run.energy.integrate import energy_from_totals, sampled_change_j
from energybench.run.meters.base import Meter
from energybench.run.meters.measurement import ESTIMATE, ComponentEnergy
from energybench.run.meters.timeline import Timeline

DEFAULT_WATTS_PER_CORE = 10.0
DEFAULT_WATTS_PER_GB = 3.0 / 8.0
PROC = Path("/proc")
CPU_TOPOLOGY = Path("/sys/devices/system/cpu")


@dataclass(frozen=True)
class ProcessTreeUsage:
    """CPU time and resident memory of a process and all its descendants."""

    processes: int
    cpu_seconds: float  # user + system, including reaped children's
    resident_gb: float


def _read_stat(proc: Path, pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after "(comm)" (which may hold spaces and parentheses), or
    ``None`` when the process is gone."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


class ProcessTree:
    """A process and its descendants, read from /proc.

    Finding descendants needs every process's parent, a scan of all of /proc that costs
    milliseconds on a host with thousands of processes; at 10 Hz that would perturb what is
    measured. So the tree is rescanned at most every ``rescan_s``, and each reading in between
    reads only its members' stat files. A due rescan runs *after* the reading it serves from the
    next one on: the scan reads every process's file, releasing Python's GIL at each, and while
    the run's own threads hold the GIL it takes a good part of a second, which put the reading
    that long after the sampler's timestamp (a 28 W spike on one CPU, then a dip). A child
    started in between is counted from the reading after the next rescan with all its CPU
    time (the counters are cumulative); a member that exits moves its time into its parent's
    cutime/cstime when reaped, so the totals stay continuous. A window's edges ask for a
    ``rescan``, so no child's earlier time lands in a window: before the start's timestamp and
    after the end's, so that the scan's milliseconds stay out of the window's duration.
    """

    def __init__(
        self, root_pid: int | None = None, proc: Path = PROC, rescan_s: float = 1.0
    ) -> None:
        import time

        self.root_pid = os.getpid() if root_pid is None else root_pid
        self.proc, self.rescan_s, self._clock = proc, rescan_s, time.monotonic
        self.rescan()
        self.usage()  # fails now when the root is not listed

    def rescan(self) -> None:
        parents: dict[int, list[int]] = {}
        for entry in self.proc.iterdir():
            if entry.name.isdigit() and (fields := _read_stat(self.proc, int(entry.name))):
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
        members, todo = [], [self.root_pid]
        while todo:
            pid = todo.pop()
            members.append(pid)
            todo.extend(parents.get(pid, []))
        self._members, self._scanned_at = members, self._clock()

    def usage(self) -> ProcessTreeUsage:
        read = {pid: _read_stat(self.proc, pid) for pid in self._members}  # the root among them
        if read.get(self.root_pid) is None:
            raise ValueError(f"process {self.root_pid} is not listed under {self.proc}")
        stats = [f for f in read.values() if f]
        if self._clock() - self._scanned_at >= self.rescan_s:
            self.rescan()
        # stat fields 14-17 (utime stime cutime cstime) and 24 (rss pages), counted from 1
        cpu = sum(sum(int(f[i]) for i in (11, 12, 13, 14)) for f in stats) / os.sysconf(
            "SC_CLK_TCK"
        )
        rss = sum(int(f[21]) for f in stats) * os.sysconf("SC_PAGE_SIZE") / 1e9
        return ProcessTreeUsage(len(stats), cpu, rss)


def physical_cores_per_logical_cpu(topology: Path = CPU_TOPOLOGY) -> tuple[float, str]:
    """Physical cores / logical CPUs (0.5 with 2-way SMT), and where it came from."""
    siblings = {
        p.read_text().strip() for p in topology.glob("cpu[0-9]*/topology/thread_siblings_list")
    }
    logical = len(list(topology.glob("cpu[0-9]*/topology/thread_siblings_list")))
    if not siblings or not logical:
        return 1.0, f"no CPU topology under {topology}: SMT assumed off"
    return len(
        siblings
    ) / logical, f"{len(siblings)} physical cores, {logical} logical CPUs ({topology})"


class _EstimateMeter(Meter):
    """A model standing in for a component's counter; ``model`` holds its constants."""

    device: str
    model: dict
    timeline_source = ESTIMATE
    estimated = True

    def __init__(self, why: str, root_pid: int | None, proc: Path) -> None:
        super().__init__()
        self.why = why  # why nothing could be read, so the model stands in
        self._tree = ProcessTree(root_pid, proc)  # fails now, where the monitor falls back

    def usage(self) -> ProcessTreeUsage:
        return self._tree.usage()

    def device_ids(self) -> list[str]:
        return [self.device]

    def describe(self) -> dict:
        return {"meter": "estimate", "component": self.component, "why": self.why, **self.model}


class CpuEstimateMeter(_EstimateMeter):
    """CPU energy from the run's CPU-seconds.

    /proc counts CPU time in clock ticks (10 ms at the usual USER_HZ of 100), so a rate over a
    short interval is mostly rounding: over the millisecond between a periodic sample and a
    window edge's, the counter moves by 0 or 1 tick, which reads as 0 W or as tens of watts.
    So each sample's power is the rate over the trailing ``RATE_SPAN_TICKS`` ticks at least
    (one tick is then at most a fifth of it; at the
    sampler's usual 10 Hz that is just the previous interval), and energy is never integrated from those
    powers: every sample records the running total (``energy_j``), and a window, whether
    opened in advance or chosen after the fact, is the difference of the totals at its edges.
    """

    component = "cpu"
    device = "cpu-estimate"
    RATE_SPAN_TICKS = 5
    resolution_rule = (
        "2 /proc ticks (USER_HZ) of CPU time at the model's power, one missed "
        "at each edge; a window resolves to a fraction f from 2 ticks / f on, "
        "while the run keeps at least one logical CPU busy"
    )

    def __init__(
        self,
        why: str,
        *,
        watts_per_core: float = DEFAULT_WATTS_PER_CORE,
        root_pid: int | None = None,
        proc: Path = PROC,
        topology: Path = CPU_TOPOLOGY,
    ) -> None:
        super().__init__(why, root_pid, proc)
        self.watts_per_core = watts_per_core
        self.core_share, topology_source = physical_cores_per_logical_cpu(topology)
        self._tick_s = 1 / os.sysconf("SC_CLK_TCK")
        self._lock = threading.Lock()
        self._readings: deque[tuple[float, float]] = deque()  # (t, CPU-seconds) of recent samples
        self._cpu_seconds_at_open = self.usage().cpu_seconds
        self._starts: dict[str, float] = {}
        self.model = {
            "model": "watts_per_core × the run's CPU-seconds × physical cores / logical CPUs",
            "assumes": "a busy physical core draws watts_per_core, an idle one nothing; SMT "
            "siblings share their core's power; only the run's processes count",
            "watts_per_core": watts_per_core,
            "physical_cores_per_logical_cpu": self.core_share,
            "topology": topology_source,
        }

    def _joules(self, cpu_seconds: float) -> float:
        return self.watts_per_core * self.core_share * cpu_seconds

    def _energy(
        self, joules: float | None, start: float, end: float, unknown: str | None = None, **detail
    ) -> ComponentEnergy:
        """A window's estimate with the model and its inputs in ``detail``, or ``None``
        joules and why (``unknown``)."""
        cpu_seconds = None if joules is None else joules / self._joules(1.0)
        detail = {
            **self.model,
            "run_cpu_seconds": cpu_seconds,
            "average_busy_cpus": cpu_seconds / (end - start)
            if cpu_seconds is not None and end > start
            else None,
            "per_device_j": {self.device: joules},
            # /proc counts in clock ticks (USER_HZ), read at both edges
            "resolution_j": self._joules(2 * self._tick_s),
            **detail,
        }
        reason = self.why if unknown is None else f"{self.why}; {unknown}"
        return ComponentEnergy(
            "cpu",
            joules,
            ESTIMATE if joules is not None else None,
            estimated=True,
            reason=reason,
            devices=[self.device],
            detail=detail,
        )

    def minimum_window_s(self, relative_resolution: float) -> float:
        # Two ticks of one busy CPU are ``relative_resolution`` of this long a window.
        return 2 * self._tick_s / relative_resolution

    def prepare_begin(self) -> None:
        self._tree.rescan()  # a child started since the last scan counts from the start on

    def _begin(self, name: str, t: float) -> None:
        self._starts[name] = self.usage().cpu_seconds

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        self._tree.rescan()  # children started in the window count (after its end timestamp)
        cpu_seconds = self.usage().cpu_seconds - self._starts.pop(name)
        return self._energy(self._joules(cpu_seconds), start, end)

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        """The running totals at the edges, linear between samples, never integrated power."""
        totals = energy_from_totals(
            *timeline.series(self.device, "energy_j"), start, end, max_gap_s=self.max_gap_s
        )
        return self._energy(
            totals.joules, start, end, totals.reason, integrated_from="running CPU-seconds totals"
        )

    def sample(self, t: float) -> list[dict]:
        cpu_seconds = self.usage().cpu_seconds
        with self._lock:
            readings = self._readings
            # keep the newest reading at least the span back, the reference of this rate
            while len(readings) > 1 and t - readings[1][0] >= self.RATE_SPAN_TICKS * self._tick_s:
                readings.popleft()
            reference = readings[0] if readings and t > readings[0][0] else None
            readings.append((t, cpu_seconds))
        record = {
            "t": t,
            "device": self.device,
            "component": "cpu",
            "estimated": True,
            "energy_j": self._joules(cpu_seconds - self._cpu_seconds_at_open),
        }
        if reference is None:  # the first sample: no rate yet, but a total
            return [{**record, "power_w": None, "busy_cpus": None}]
        busy = (cpu_seconds - reference[1]) / (t - reference[0])
        return [{**record, "power_w": self._joules(busy), "busy_cpus": busy}]


class RamEstimateMeter(_EstimateMeter):
    """RAM power from the resident memory read at every sample, integrated. Its resolution is
    what the interpolation between two readings may miss where memory moved (nothing where
    it stayed put), plus one page of memory over the window (the reading's unit); the
    shortest window is one sampling interval, within which the estimate has no reading of
    its own."""

    component = "ram"
    device = "ram-estimate"
    PAGE_GB = os.sysconf("SC_PAGE_SIZE") / 1e9
    resolution_rule = (
        "the sampled power's change across each sample interval covering the "
        "window x its length (0 while resident memory stays put) + one page "
        "of memory at the model's power over the window"
    )

    def __init__(
        self,
        why: str,
        *,
        watts_per_gb: float = DEFAULT_WATTS_PER_GB,
        root_pid: int | None = None,
        proc: Path = PROC,
    ) -> None:
        super().__init__(why, root_pid, proc)
        self.watts_per_gb = watts_per_gb
        self.model = {
            "model": "watts_per_gb × resident memory of the run's processes, sampled and "
            "integrated",
            "assumes": "DRAM power in proportion to the memory the run holds (Green "
            "Algorithms' 3 W per 8 GB); bandwidth and the host's other memory are "
            "not counted",
            "watts_per_gb": watts_per_gb,
        }

    def _begin(self, name: str, t: float) -> None:
        pass

    def minimum_window_s(self, relative_resolution: float) -> float:
        return self.sample_interval_s

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        energy = super().energy_from_timeline(start, end, timeline)
        change = sampled_change_j(*timeline.series(self.device), start, end)
        energy.detail["resolution_j"] = (
            None if change is None else change + self.watts_per_gb * self.PAGE_GB * (end - start)
        )
        return energy

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        energy = self.energy_from_timeline(start, end, timeline)
        resident = [
            r.get("resident_gb")
            for r in timeline.since(start)
            if r["device"] == self.device and r["t"] <= end
        ]
        energy.detail.update(self.model, resident_gb_max=max(filter(None, resident), default=None))
        return energy

    def sample(self, t: float) -> list[dict]:
        resident = self.usage().resident_gb
        return [
            {
                "t": t,
                "device": self.device,
                "component": "ram",
                "estimated": True,
                "power_w": self.watts_per_gb * resident,
                "resident_gb": resident,
            }
        ]
