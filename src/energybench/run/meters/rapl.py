"""CPU package and DRAM energy from Intel/AMD RAPL counters under /sys/class/powercap.

The kernel lays RAPL out as zones ``intel-rapl:N`` (one per CPU package, named
``package-N``; on laptops also ``psys``, the whole platform) with sub-zones
``intel-rapl:N:M`` named ``core``, ``uncore`` or ``dram``. Core and uncore are parts of the
package, and psys contains the packages, so only packages (CPU) and dram (RAM) are summed.
Each ``energy_uj`` counter wraps at ``max_energy_range_uj``; the meter reads every counter at
each sample (≥10 Hz) and accumulates, so a window may span many wraps. Each timeline record
carries the running total (``energy_j``) beside the interval's average power, so a window
chosen after the fact is measured from the totals, exactly, rather than by integrating
interval averages as if they were instantaneous.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from energybench.run.energy.counters import counter_delta
from energybench.run.energy.integrate import energy_from_totals
from energybench.run.meters.base import Meter
from energybench.run.meters.measurement import RAPL, ComponentEnergy
from energybench.run.meters.timeline import Timeline

# No CPU package or DIMM set draws this much (the largest server packages are rated ~500 W); a
# "wrap" implying more was a counter reset. At this rate a whole 262 kJ range takes 262 s, so
# a polling gap below that tells a wrap from a reset.
MAX_PLAUSIBLE_DOMAIN_W = 1000.0
# The powercap interface counts in µJ (the hardware unit is coarser, typically 61 µJ).
INTERFACE_QUANTUM_J = 1e-6
# The hardware updates the counter about every millisecond: a window can miss one update at
# each edge.
COUNTER_UPDATE_S = 0.001

_ZONE = re.compile(r"^intel-rapl:(\d+)$")
_MMIO_ZONE = re.compile(r"^intel-rapl-mmio:(\d+)$")
_SUBZONE = re.compile(r"^intel-rapl(?:-mmio)?:(\d+):(\d+)$")


@dataclass(frozen=True)
class RaplDomain:
    device: str  # e.g. "intel-rapl:0/package-0", "intel-rapl:0:2/dram"
    path: Path
    max_range_uj: float


@dataclass
class RaplDiscovery:
    """Domains to sum per component, domains left out (with why) and unreadable components."""

    domains: dict[str, list[RaplDomain]] = field(default_factory=lambda: {"cpu": [], "ram": []})
    skipped: list[dict] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)


def _read_number(path: Path) -> float:
    return float(path.read_text().strip())


def _unreadable_reason(path: Path, error: OSError) -> str:
    if isinstance(error, PermissionError):
        return (
            f"permission denied reading {path}: since Linux 5.10 RAPL energy counters are "
            "readable by root only (CVE-2020-8694); run as root or grant read access "
            "(e.g. `chmod o+r` on the energy_uj files, or a udev rule)"
        )
    return f"cannot read {path}: {error.strerror or error}"


def _zone_number(path: Path, pattern: re.Pattern) -> tuple[int, ...]:
    return tuple(int(part) for part in pattern.match(path.name).groups())


def discover_rapl(root: str | Path) -> RaplDiscovery:
    """Find the package and dram domains under a powercap root, checking each is readable."""
    root = Path(root)
    found = RaplDiscovery()
    if not root.is_dir():
        reason = (
            f"{root} does not exist: no RAPL powercap interface (not Linux, the intel_rapl "
            "driver is not loaded, or a VM/container that hides it)"
        )
        found.problems = {"cpu": reason, "ram": reason}
        return found
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    zones = sorted(
        (p for p in entries if _ZONE.match(p.name)), key=lambda p: _zone_number(p, _ZONE)
    )
    mmio = sorted(
        (p for p in entries if _MMIO_ZONE.match(p.name)), key=lambda p: _zone_number(p, _MMIO_ZONE)
    )
    if zones:
        found.skipped += [
            {
                "zone": p.name,
                "reason": "MMIO copy of the MSR package domains (intel-rapl); summing both would double count",
            }
            for p in mmio
        ]
    else:
        zones = mmio
    if not zones:
        reason = f"no intel-rapl zones under {root}"
        found.problems = {"cpu": reason, "ram": reason}
        return found

    unreadable: dict[str, list[str]] = {"cpu": [], "ram": []}
    for zone in zones:
        subzones = sorted(
            (p for p in zone.iterdir() if _SUBZONE.match(p.name)),
            key=lambda p: _zone_number(p, _SUBZONE),
        )
        for directory in [zone, *subzones]:
            top_level = directory is zone
            try:
                name = (directory / "name").read_text().strip()
            except OSError as error:
                # Unknown domain: it may be a package (top level) or a dram sub-zone.
                for component in ("cpu", "ram") if top_level else ("ram",):
                    unreadable[component].append(_unreadable_reason(directory / "name", error))
                continue
            component = _component_of(name, top_level=top_level)
            if component is None:
                found.skipped.append(
                    {"zone": directory.name, "name": name, "reason": _skip_reason(name)}
                )
                continue
            try:
                _read_number(directory / "energy_uj")
                max_range = _read_number(directory / "max_energy_range_uj")
            except OSError as error:
                unreadable[component].append(_unreadable_reason(Path(error.filename), error))
                continue
            except ValueError as error:
                unreadable[component].append(f"unexpected contents in {directory}: {error}")
                continue
            found.domains[component].append(
                RaplDomain(f"{directory.name}/{name}", directory, max_range)
            )

    for component in ("cpu", "ram"):
        if unreadable[component]:
            # A partial sum would look like a complete one; report nothing instead.
            found.domains[component] = []
            found.problems[component] = "; ".join(unreadable[component])
        elif not found.domains[component]:
            what = "package" if component == "cpu" else "dram"
            found.problems[component] = f"no RAPL {what} domain under {root}"
    return found


def _component_of(name: str, *, top_level: bool) -> str | None:
    if top_level and name.startswith("package"):
        return "cpu"
    if name == "dram":
        return "ram"
    return None


def _skip_reason(name: str) -> str:
    if name in ("core", "uncore"):
        return f"{name} is part of its package domain, which is already counted"
    if name == "psys":
        return (
            "psys covers the whole platform including the packages; summing it would double count"
        )
    return f"domain {name!r} is not a package or dram domain"


@dataclass
class _Counter:
    """Running total of one domain's counter, unwrapped."""

    last_raw: float
    last_t: float
    total_uj: float = 0.0
    wraps: int = 0


class RaplMeter(Meter):
    """Sums the given RAPL domains of one component (cpu: packages, ram: dram).

    Its timeline power is each counter's increase over the previous sample interval.
    """

    timeline_source = RAPL
    resolution_rule = (
        "per domain: 1 uJ (the interface's unit) + 2 x the window's average "
        "power x 1 ms (one hardware update missed at each edge)"
    )

    def __init__(self, component: str, domains: list[RaplDomain], t: float) -> None:
        super().__init__()
        if not domains:
            raise ValueError(f"RAPL meter for {component} needs at least one domain")
        self.component = component
        self.domains = domains
        self._lock = threading.Lock()
        self._counters = {
            d.device: _Counter(_read_number(d.path / "energy_uj"), t) for d in domains
        }
        self._events: list[tuple[float, str]] = []  # (time, why) of readings that broke the total
        self._starts: dict[str, tuple[dict[str, float], dict[str, int]]] = {}

    def device_ids(self) -> list[str]:
        return [d.device for d in self.domains]

    def _poll(self, t: float) -> dict[str, tuple[float, float]]:
        """Read every counter; returns device -> (µJ since the previous read, seconds since it)."""
        increments = {}
        with self._lock:
            for domain in self.domains:
                counter = self._counters[domain.device]
                try:
                    raw = _read_number(domain.path / "energy_uj")
                except (OSError, ValueError) as error:
                    self._events.append((t, f"{domain.device}: {error}"))
                    continue
                elapsed = t - counter.last_t
                delta = counter_delta(
                    counter.last_raw,
                    raw,
                    max_range=domain.max_range_uj,
                    elapsed_s=elapsed,
                    max_plausible_rate=MAX_PLAUSIBLE_DOMAIN_W * 1e6,
                    max_gap_s=self.max_gap_s,
                )
                if delta.valid:
                    counter.total_uj += delta.delta
                    counter.wraps += delta.wrapped
                    increments[domain.device] = (delta.delta, elapsed)
                else:
                    self._events.append((t, f"{domain.device}: {delta.reason}"))
                counter.last_raw, counter.last_t = raw, t
        return increments

    def _snapshot(self) -> tuple[dict[str, float], dict[str, int]]:
        with self._lock:
            return (
                {device: c.total_uj for device, c in self._counters.items()},
                {device: c.wraps for device, c in self._counters.items()},
            )

    def _begin(self, name: str, t: float) -> None:
        self._poll(t)
        self._starts[name] = self._snapshot()

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        self._poll(end)
        (begin_totals, begin_wraps), (end_totals, end_wraps) = (
            self._starts.pop(name),
            self._snapshot(),
        )
        devices = self.device_ids()
        with self._lock:
            broken = [why for t, why in self._events if start < t <= end]
        per_device = {d: (end_totals[d] - begin_totals[d]) / 1e6 for d in devices}
        detail = {
            "per_device_j": per_device,
            "wraps": {d: end_wraps[d] - begin_wraps[d] for d in devices},
            "max_energy_range_uj": {d.device: d.max_range_uj for d in self.domains},
            "resolution_j": resolution_j(per_device.values(), end - start),
        }
        if broken:
            detail["per_device_j"] = {d: None for d in devices}
            return ComponentEnergy(
                self.component,
                None,
                RAPL,
                reason="RAPL counter unusable in this window: " + "; ".join(broken),
                devices=devices,
                detail=detail,
            )
        return ComponentEnergy(
            self.component, sum(per_device.values()), RAPL, devices=devices, detail=detail
        )

    def sample(self, t: float) -> list[dict]:
        increments = self._poll(t)
        totals, _ = self._snapshot()
        return [
            {
                "t": t,
                "device": device,
                "component": self.component,
                "power_w": delta_uj / 1e6 / elapsed if elapsed > 0 else None,
                "energy_j": totals[device] / 1e6,  # running total since the meter opened
            }
            for device, (delta_uj, elapsed) in increments.items()
        ]

    def minimum_window_s(self, relative_resolution: float) -> float:
        return 2 * COUNTER_UPDATE_S / relative_resolution

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        """Energy over [start, end] from the running totals recorded at each sample, linear
        between samples (exact while power is constant within a sample interval)."""
        per_device, problems = {}, []
        series = {device: timeline.series(device, "energy_j") for device in self.device_ids()}
        # The edges are interpolated from the readings around them: a reading that broke the
        # total between the last one before ``start`` and ``start`` (a reset, whose interval
        # no total counts) lies inside the interpolation, and voids the window too.
        since = min(
            (max((t for t in times if t <= start), default=start) for times, _ in series.values()),
            default=start,
        )
        with self._lock:
            broken = [why for t, why in self._events if since < t <= end]
        for device, (times, totals) in series.items():
            result = energy_from_totals(times, totals, start, end, max_gap_s=self.max_gap_s)
            if result.joules is None:
                problems.append(f"{device}: {result.reason}")
            else:
                per_device[device] = result.joules
        detail = {
            "per_device_j": per_device,
            "integrated_from": "running counter totals",
            "resolution_j": resolution_j(per_device.values(), end - start),
        }
        if broken or problems:
            return ComponentEnergy(
                self.component,
                None,
                RAPL,
                reason="RAPL counter unusable in this window: " + "; ".join(broken + problems),
                devices=self.device_ids(),
                detail=detail,
            )
        return ComponentEnergy(
            self.component, sum(per_device.values()), RAPL, devices=self.device_ids(), detail=detail
        )

    def describe(self) -> dict:
        return {
            "meter": "rapl",
            "component": self.component,
            "domains": [
                {"device": d.device, "path": str(d.path), "max_energy_range_uj": d.max_range_uj}
                for d in self.domains
            ],
            "resolution_j": INTERFACE_QUANTUM_J,
            "counter_update_s": COUNTER_UPDATE_S,
        }


def resolution_j(per_device_j, duration_s: float) -> float:
    """Per domain: one µJ quantum, plus a missed ~1 ms update at each edge of the window at
    the domain's average power."""
    return sum(
        INTERFACE_QUANTUM_J + 2 * COUNTER_UPDATE_S * (j / duration_s if duration_s > 0 else 0.0)
        for j in per_device_j
    )
