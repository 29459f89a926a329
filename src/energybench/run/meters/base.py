"""The one interface every meter implements, and the stand-in for a component nobody can read."""

from __future__ import annotations

from abc import ABC, abstractmethod

from energybench.run.energy.integrate import integrate_power
from energybench.run.meters.measurement import ComponentEnergy
from energybench.run.meters.timeline import Timeline


class Meter(ABC):
    """Measures one component (``gpu``, ``cpu`` or ``ram``) over named windows.

    Times are the monitor's clock (seconds). ``sample`` is called by the background sampler
    and at every window edge; it returns timeline records (``t``, ``device``, ``component``,
    ``power_w`` and whatever else the device reports). ``end_window`` may use the timeline to
    integrate power; ``energy_from_timeline`` measures a window chosen after the fact from the
    sampled power alone.
    """

    component: str
    timeline_source: str | None = None  # the source of figures integrated from the timeline
    estimated = False
    why: str | None = None  # why no counter measures this component (estimated or unavailable)
    max_gap_s = 1.0  # the longest stretch without a power sample an integral may bridge
    sample_interval_s = 0.1  # the sampler's period (the monitor sets both from its rate)
    # How the meter works out a window's ``detail.resolution_j`` (docs/energy.md §2).
    resolution_rule: str | None = None

    def __init__(self) -> None:
        self._windows: dict[str, float] = {}

    def prepare_begin(self) -> None:
        """Work a window's start reading needs that must not fall inside the window, such as
        finding the run's processes: the monitor calls it just before the start's timestamp.
        (At the end, such work belongs after the timestamp, in ``_end``.)"""

    def begin_window(self, name: str, t: float) -> None:
        if name in self._windows:
            raise ValueError(f"{self.component} meter: window {name!r} is already open")
        self._begin(name, t)
        self._windows[name] = t

    def end_window(self, name: str, t: float, timeline: Timeline) -> ComponentEnergy:
        if name not in self._windows:
            raise KeyError(
                f"{self.component} meter: window {name!r} was never begun (or already ended)"
            )
        start = self._windows.pop(name)
        return self._end(name, start, t, timeline)

    @abstractmethod
    def _begin(self, name: str, t: float) -> None: ...

    @abstractmethod
    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy: ...

    def device_ids(self) -> list[str]:
        """The ``device`` names this meter writes into the timeline."""
        return []

    def minimum_window_s(self, relative_resolution: float) -> float:
        """The shortest window whose energy this meter resolves to ``relative_resolution``
        (a meter that misses up to one update at each edge needs 2 × its update period ÷
        the fraction); 0 for a meter that measures nothing."""
        return 0.0

    def statement(self) -> dict:
        """What the meter resolves, for ``describe``: its rule and its shortest windows."""
        return {
            "resolution_rule": self.resolution_rule,
            "minimum_window_s": {f"{f:.0%}": self.minimum_window_s(f) for f in (0.01, 0.02)},
        }

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        """Energy over [start, end] by integrating each device's sampled power."""
        integrals = {
            d: integrate_power(*timeline.series(d), start, end, max_gap_s=self.max_gap_s)
            for d in self.device_ids()
        }
        per_device = {d: i.joules for d, i in integrals.items()}
        detail = {"per_device_j": per_device, "integrated_from": "sampled power (trapezoid)"}
        unknown = {d: i.reason for d, i in integrals.items() if i.joules is None}
        if unknown:
            reason = "; ".join(f"{d}: {why}" for d, why in unknown.items())
            return ComponentEnergy(
                self.component, None, None, self.estimated, reason, list(integrals), detail=detail
            )
        return ComponentEnergy(
            self.component,
            sum(per_device.values()),
            self.timeline_source,
            self.estimated,
            self.why,
            list(integrals),
            detail=detail,
        )

    def sample(self, t: float) -> list[dict]:
        return []

    @abstractmethod
    def describe(self) -> dict: ...

    def close(self) -> None:
        pass


class UnavailableMeter(Meter):
    """A component that cannot be measured: every window is ``None`` with the reason."""

    def __init__(self, component: str, reason: str, detail: dict | None = None) -> None:
        super().__init__()
        self.component = component
        self.why = reason
        self._detail = detail or {}

    def _begin(self, name: str, t: float) -> None:
        pass

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        return self.energy_from_timeline(start, end, timeline)

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        return ComponentEnergy(
            self.component, None, None, reason=self.why, detail=dict(self._detail)
        )

    def describe(self) -> dict:
        return {"meter": None, "component": self.component, "reason": self.why, **self._detail}
