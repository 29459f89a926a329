"""What the meters report: energy per component over a window, and idle power."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from energybench.energy.baseline import NetEnergy, idle_power, subtract_idle
from energybench.energy.checks import (
    Check,
    check_counter_vs_integral,
    check_power_range,
    check_window_length,
)
from energybench.energy.phases import PhaseSplit, split_phases


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
    """Energy of every component over the window ``name`` (monitor clock, seconds)."""

    name: str
    start_s: float
    end_s: float
    components: dict[str, ComponentEnergy]

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
            )
        return result

    def checks(self, idle: IdleBaseline | None, *, min_window_s: float = 5.0) -> list[Check]:
        """The self-checks one window allows: its length, each measured component's average
        power between idle and 1.1 × its power limit, and the GPU counter against its power
        integral. Estimated components are not checked: a model cannot contradict itself."""
        checks = [check_window_length(self.duration_s, minimum_s=min_window_s)]
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
                )
            )
            if name == "gpu":
                checks.append(check_counter_vs_integral(energy.detail.get("counter_j"), energy.detail.get("integral_j")))
        return checks

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "duration_s": self.duration_s,
            "components": {name: energy.to_dict() for name, energy in self.components.items()},
        }


@dataclass
class IdlePower:
    """Average power of one component while the machine idled, or ``None`` with the reason."""

    component: str
    watts: float | None
    source: str | None
    estimated: bool
    reason: str | None
    devices: list[str]
    per_device_w: dict[str, float | None]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IdleBaseline:
    duration_s: float
    components: dict[str, IdlePower]

    @classmethod
    def from_window(cls, window: WindowMeasurement) -> IdleBaseline:
        duration = window.duration_s
        components = {}
        for name, energy in window.components.items():
            per_device = {
                device: idle_power(joules, duration)
                for device, joules in energy.detail.get("per_device_j", {}).items()
            }
            components[name] = IdlePower(
                name,
                idle_power(energy.joules, duration),
                energy.source,
                energy.estimated,
                energy.reason,
                list(energy.devices),
                per_device,
            )
        return cls(duration, components)

    def to_dict(self) -> dict:
        return {
            "duration_s": self.duration_s,
            "components": {name: power.to_dict() for name, power in self.components.items()},
        }


def split_window_phases(prefill: WindowMeasurement, generate: WindowMeasurement) -> dict[str, PhaseSplit]:
    """Prefill and decode (= generate − prefill) gross energy per component, and latency.

    A component's resolution is the sum of its meter's resolution over both windows; decode
    below it, or negative, is invalid with the reason. Key ``"latency"`` splits the window
    durations (seconds) the same way.
    """
    phases = {}
    for name, energy in generate.components.items():
        before = prefill.components[name]
        resolution = before.detail.get("resolution_j") or 0.0
        resolution += energy.detail.get("resolution_j") or 0.0
        phases[name] = split_phases(before.joules, energy.joules, resolution=resolution)
    phases["latency"] = split_phases(prefill.duration_s, generate.duration_s, unit="s")
    return phases
