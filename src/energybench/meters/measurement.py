"""What the meters report: energy per component over a window, and idle power."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from energybench.energy.baseline import NetEnergy, idle_power, subtract_idle

COMPONENTS = ("gpu", "cpu", "ram")

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
