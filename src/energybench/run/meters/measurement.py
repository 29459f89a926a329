"""What the meters report: energy per component over a window, and idle power."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from energybench.run.energy.baseline import NetEnergy, idle_power, subtract_idle
from energybench.run.energy.checks import (
    DEFAULT_MINIMUM_WINDOW_S,
    Check,
    check_counter_vs_integral,
    check_power_range,
    check_window_length,
)

# The most an idle baseline's sub-windows may differ, as a fraction of its power.
IDLE_MAX_SPREAD = 0.05

# Values of ComponentEnergy.source
NVML = "nvml"
NVML_POWER_INTEGRAL = "nvml_power_integral"
RAPL = "rapl"
ESTIMATE = "estimate"


@dataclass
class ComponentEnergy:
    """Gross energy of one component (gpu, cpu or ram) over one window.

    ``joules`` is ``None`` when unknown, and then ``reason`` says why; ``reason`` also says
    why a figure is estimated. ``notes`` flag figures that are right but need reading with
    care (MIG, mixed sources). ``detail`` holds per-device joules, counter and integral
    figures, the meter's resolution and, for estimates, the model.
    """

    component: str
    joules: float | None
    source: str | None
    estimated: bool = False
    reason: str | None = None
    devices: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WindowMeasurement:
    """Energy of every component over the window ``name`` (monitor clock, seconds).
    ``minimum_s`` is the shortest window its meters resolve to ``WINDOW_RELATIVE_RESOLUTION``
    (the window check's limit), as the monitor that measured it states it."""

    name: str
    start_s: float
    end_s: float
    components: dict[str, ComponentEnergy]
    minimum_s: float = DEFAULT_MINIMUM_WINDOW_S

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def joules(self, component: str) -> float | None:
        return self.components[component].joules

    def net(self, idle: IdleBaseline | None) -> dict[str, NetEnergy]:
        """Gross, idle and net energy per component against an idle baseline."""
        result = {}
        for name, energy in self.components.items():
            baseline = idle.components.get(name) if idle else None
            result[name] = subtract_idle(
                energy.joules,
                baseline.watts if baseline else None,
                self.duration_s,
                idle_reason=baseline.reason if baseline else None,
                resolution_j=energy.detail.get("resolution_j") or 0.0,
                idle_uncertainty_w=(baseline.uncertainty_w or 0.0) if baseline else 0.0,
            )
        return result

    def checks(self, idle: IdleBaseline | None) -> list[Check]:
        """The self-checks one window allows: its length against what its meters resolve to
        ``WINDOW_RELATIVE_RESOLUTION``, each measured component's average
        power between idle and 1.1 × its power limit, and the GPU counter against its power
        integral within the two meters' resolution over this window. Estimated components are
        not checked: a model cannot contradict itself."""
        checks = [check_window_length(self.duration_s, minimum_s=self.minimum_s)]
        net = self.net(idle)
        for name, energy in self.components.items():
            if energy.joules is None or energy.estimated or self.duration_s <= 0:
                continue
            baseline = idle.components.get(name) if idle else None
            checks.append(
                check_power_range(
                    energy.joules / self.duration_s,
                    baseline.watts if baseline else None,
                    energy.detail.get("power_limit_w"),
                    component=name,
                    allowance_w=_first_known(
                        net[name].uncertainty_j, energy.detail.get("resolution_j"), 0.0
                    )
                    / self.duration_s,
                )
            )
            if name == "gpu":
                checks.append(
                    check_counter_vs_integral(
                        energy.detail.get("counter_j"),
                        energy.detail.get("integral_j"),
                        resolution_j=_sum_known(
                            energy.detail.get("counter_resolution_j"),
                            energy.detail.get("integral_resolution_j"),
                        ),
                    )
                )
        return checks

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "duration_s": self.duration_s,
            "components": {name: energy.to_dict() for name, energy in self.components.items()},
        }


def _first_known(*values: float | None) -> float:
    return next(v for v in values if v is not None)


def _sum_known(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(values)


@dataclass
class IdlePower:
    """Average power of one component while the machine idled, or ``None`` with the reason.

    ``sub_window_w`` is the average power of each equal sub-window of the idle window and
    ``uncertainty_w`` their spread (max − min): how much the idle power itself wanders.
    """

    component: str
    watts: float | None
    source: str | None
    estimated: bool
    reason: str | None
    devices: list[str]
    per_device_w: dict[str, float | None]
    uncertainty_w: float | None = None
    sub_window_w: list[float | None] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IdleBaseline:
    """Idle power per component, and how it was taken (``method``: settle, duration asked
    for and the minimum the meters' resolution needs, sub-windows, the stability limit);
    ``start_s``/``end_s``: its window on the monitor's clock, where it was measured in one."""

    duration_s: float
    components: dict[str, IdlePower]
    method: dict = field(default_factory=dict)
    temperatures_c: dict[str, float] = field(default_factory=dict)
    start_s: float | None = None
    end_s: float | None = None

    @classmethod
    def from_window(
        cls,
        window: WindowMeasurement,
        sub_windows: list[WindowMeasurement] = (),
        *,
        max_spread: float = IDLE_MAX_SPREAD,
        method: dict | None = None,
        temperatures_c: dict[str, float] | None = None,
    ) -> IdleBaseline:
        """Idle power of each component over ``window``, checked against the average powers
        of its ``sub_windows``: a measured component whose sub-windows differ by more than
        ``max_spread`` of its idle power is ``None`` with that reason (the machine was not
        idle, or not settled). Estimates are models of the load, so their spread is
        reported but does not void them."""
        duration = window.duration_s
        components = {}
        for name, energy in window.components.items():
            per_device = {
                device: idle_power(joules, duration)
                for device, joules in energy.detail.get("per_device_j", {}).items()
            }
            watts, reason = idle_power(energy.joules, duration), energy.reason
            powers = [idle_power(w.components[name].joules, w.duration_s) for w in sub_windows]
            # The sub-windows that were measured are checked even when one was not (a sampler
            # gap): their spread alone can show the baseline unstable.
            known = [p for p in powers if p is not None]
            spread = None
            if watts is not None and len(known) < len(powers):
                reason = "; ".join(
                    filter(
                        None,
                        [
                            reason,
                            (
                                f"idle stability checked on {len(known)} of {len(powers)} sub-windows: "
                                + "; ".join(
                                    f"sub-window {i} unknown ({w.components[name].reason})"
                                    for i, (w, p) in enumerate(zip(sub_windows, powers))
                                    if p is None
                                )
                            ),
                        ],
                    )
                )
            if len(known) >= 2:
                spread = max(known) - min(known)
                if watts and not energy.estimated and spread > max_spread * watts:
                    reason = (
                        f"idle power unstable: its {len(known)} measured sub-windows averaged "
                        f"{min(known):.4g}–{max(known):.4g} W, a spread of "
                        f"{spread / watts:.1%} of the idle {watts:.4g} W, over the "
                        f"{max_spread:.0%} allowed (something ran during the baseline, or "
                        "the device had not settled)"
                    )
                    watts = None
            components[name] = IdlePower(
                name,
                watts,
                energy.source,
                energy.estimated,
                reason,
                list(energy.devices),
                per_device,
                spread,
                powers,
            )
        return cls(
            duration,
            components,
            dict(method or {}),
            dict(temperatures_c or {}),
            window.start_s,
            window.end_s,
        )

    def to_dict(self) -> dict:
        return {
            "duration_s": self.duration_s,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "method": self.method,
            "temperatures_c": self.temperatures_c,
            "components": {name: power.to_dict() for name, power in self.components.items()},
        }
