"""EnergyMonitor: the one place a run measures energy (GPU, CPU, RAM) and samples power."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from energybench.meters.base import Meter, UnavailableMeter
from energybench.meters.estimate import (
    DEFAULT_WATTS_PER_CORE,
    DEFAULT_WATTS_PER_GB,
    CpuEstimateMeter,
    RamEstimateMeter,
)
from energybench.meters.measurement import IdleBaseline, WindowMeasurement
from energybench.meters.nvml import open_gpu_meter
from energybench.meters.rapl import RaplMeter, discover_rapl
from energybench.meters.sampler import Sampler
from energybench.meters.timeline import Timeline

IDLE_WINDOW = "idle-baseline"


class EnergyMonitor:
    """Meters for every component, a background sampler, and named measurement windows.

    Times (window edges, timeline ``t``) are seconds on the monitor's monotonic clock, which
    starts at 0 when the monitor is created; ``describe()["clock"]`` gives its Unix epoch.
    """

    def __init__(self, meters: dict[str, Meter], sample_hz: float, clock_origin: float, epoch_unix: float) -> None:
        self.meters = meters
        self._origin = clock_origin
        self._epoch_unix = epoch_unix
        self._timeline = Timeline()
        self._sampler = Sampler(list(meters.values()), self._timeline, self.now, sample_hz)
        self._windows: dict[str, float] = {}
        self._closed = False
        self._sampler.start()

    @classmethod
    def create(
        cls,
        gpu_devices: Sequence[int | str] | None = None,
        sample_hz: float = 10.0,
        powercap_root: str | Path = "/sys/class/powercap",
        *,
        estimate: bool = True,
        cpu_watts_per_core: float = DEFAULT_WATTS_PER_CORE,
        ram_watts_per_gb: float = DEFAULT_WATTS_PER_GB,
        nvml=None,
        environ=os.environ,
    ) -> EnergyMonitor:
        """Open every meter this machine allows.

        gpu_devices: the run's device ids (indices as the run sees them, or UUIDs); ``None``
        means every GPU visible through CUDA_VISIBLE_DEVICES (all GPUs if it is unset).
        estimate: fall back to the CPU/RAM estimate where RAPL cannot be read; with ``False``
        those components are ``None`` with the reason. ``nvml`` and ``environ`` replace the
        real pynvml module and environment in tests.
        """
        origin, epoch = time.monotonic(), time.time()
        # Power integrals tolerate a gap of a few missed samples, never less than a second.
        gpu = open_gpu_meter(gpu_devices, nvml=nvml, environ=environ, max_gap_s=max(1.0, 2.5 / sample_hz))
        rapl = discover_rapl(powercap_root)
        meters: dict[str, Meter] = {"gpu": gpu}
        for component in ("cpu", "ram"):
            if rapl.domains[component]:
                meters[component] = RaplMeter(component, rapl.domains[component], time.monotonic() - origin)
                continue
            why = f"RAPL unreadable: {rapl.problems[component]}"
            if not estimate:
                meters[component] = UnavailableMeter(component, why)
            elif component == "cpu":
                meters[component] = CpuEstimateMeter(why, watts_per_core=cpu_watts_per_core)
            else:
                meters[component] = RamEstimateMeter(why, watts_per_gb=ram_watts_per_gb)
        monitor = cls(meters, sample_hz, origin, epoch)
        monitor._rapl_skipped = rapl.skipped
        return monitor

    def now(self) -> float:
        return time.monotonic() - self._origin

    def begin_window(self, name: str) -> None:
        if name in self._windows:
            raise ValueError(f"measurement window {name!r} is already open")
        t = self._sampler.sample_now()
        for meter in self.meters.values():
            meter.begin_window(name, t)
        self._windows[name] = t

    def end_window(self, name: str) -> WindowMeasurement:
        if name not in self._windows:
            raise KeyError(f"measurement window {name!r} was never begun (or has already ended)")
        t = self._sampler.sample_now()
        components = {c: meter.end_window(name, t, self._timeline) for c, meter in self.meters.items()}
        return WindowMeasurement(name, self._windows.pop(name), t, components)

    def measure_idle(self, seconds: float) -> IdleBaseline:
        """Average power per component while nothing runs, over ``seconds``."""
        if seconds <= 0:
            raise ValueError(f"idle baseline needs a positive duration, got {seconds} s")
        self.begin_window(IDLE_WINDOW)
        time.sleep(seconds)
        return IdleBaseline.from_window(self.end_window(IDLE_WINDOW))

    def timeline(self) -> list[dict]:
        return self._timeline.records()

    def describe(self) -> dict:
        return {
            "meters": {c: meter.describe() for c, meter in self.meters.items()},
            "rapl_domains_not_summed": getattr(self, "_rapl_skipped", []),
            "sampler": self._sampler.describe(),
            "clock": {"kind": "monotonic", "epoch_unix": self._epoch_unix},
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._sampler.stop()
        for meter in self.meters.values():
            meter.close()

    def __enter__(self) -> EnergyMonitor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
