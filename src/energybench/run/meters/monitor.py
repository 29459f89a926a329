"""EnergyMonitor: the one place a run measures energy (GPU, CPU, RAM) and samples power."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from energybench.run.meters.base import Meter, UnavailableMeter
from energybench.run.meters.cooldown import IDLE_MARGIN_C, temperatures_settled
from energybench.run.meters.estimate import (
    DEFAULT_WATTS_PER_CORE,
    DEFAULT_WATTS_PER_GB,
    CpuEstimateMeter,
    RamEstimateMeter,
)
from energybench.run.meters.measurement import (
    IDLE_MAX_SPREAD,
    ComponentEnergy,
    IdleBaseline,
    WindowMeasurement,
)
from energybench.run.energy.checks import WINDOW_RELATIVE_RESOLUTION
from energybench.run.meters.nvml import open_gpu_meter
from energybench.run.meters.rapl import RaplMeter, discover_rapl
from energybench.run.meters.sampler import Sampler
from energybench.run.meters.timeline import Timeline

IDLE_WINDOW = "idle-baseline"
# The idle power must be known to 1 % by its own meters, over at least this many sub-windows.
IDLE_RELATIVE_RESOLUTION = 0.01
IDLE_SUB_WINDOWS = 4


class EnergyMonitor:
    """Meters for every component, a background sampler, and named measurement windows.

    Times (window edges, timeline ``t``) are seconds on the monitor's monotonic clock, which
    starts at 0 when the monitor is created; ``describe()["clock"]`` gives its Unix epoch.
    """

    def __init__(
        self, meters: dict[str, Meter], sample_hz: float, clock_origin: float, epoch_unix: float
    ) -> None:
        self.meters = meters
        self._origin = clock_origin
        self._epoch_unix = epoch_unix
        self._timeline = Timeline()
        self._sampler = Sampler(list(meters.values()), self._timeline, self.now, sample_hz)
        self._windows: dict[str, float] = {}
        self._failed_begins: dict[tuple[str, str], str] = {}  # (window, component) -> why
        self._closed = False
        self._idle_temperatures: dict[str, float] = {}
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
        gpu = open_gpu_meter(gpu_devices, nvml=nvml, environ=environ)
        rapl = discover_rapl(powercap_root)
        meters: dict[str, Meter] = {"gpu": gpu}
        for component in ("cpu", "ram"):
            if rapl.domains[component]:
                meters[component] = RaplMeter(
                    component, rapl.domains[component], time.monotonic() - origin
                )
                continue
            why = f"RAPL unreadable: {rapl.problems[component]}"
            if not estimate:
                meters[component] = UnavailableMeter(component, why)
                continue
            try:
                meters[component] = (
                    CpuEstimateMeter(why, watts_per_core=cpu_watts_per_core)
                    if component == "cpu"
                    else RamEstimateMeter(why, watts_per_gb=ram_watts_per_gb)
                )
            except (OSError, ValueError) as error:  # no /proc to estimate from either
                meters[component] = UnavailableMeter(
                    component, f"{why}; no estimate either: {error}"
                )
        for meter in meters.values():
            # Power integrals tolerate a gap of a few missed samples, never less than a second.
            meter.max_gap_s = max(1.0, 2.5 / sample_hz)
            meter.sample_interval_s = 1.0 / sample_hz
        monitor = cls(meters, sample_hz, origin, epoch)
        monitor._rapl_skipped = rapl.skipped
        return monitor

    def now(self) -> float:
        return time.monotonic() - self._origin

    def begin_window(self, name: str) -> None:
        if name in self._windows:
            raise ValueError(f"measurement window {name!r} is already open")
        failed = self._prepare_begins()
        t = self._sampler.sample_now()
        for component, meter in self.meters.items():
            try:
                if component in failed:
                    raise failed[component]
                meter.begin_window(name, t)
            except Exception as error:  # one unreadable device must not stop the run
                self._failed_begins[(name, component)] = (
                    f"could not start the window: {type(error).__name__}: {error}"
                )
        self._windows[name] = t

    def end_window(self, name: str) -> WindowMeasurement:
        if name not in self._windows:
            raise KeyError(f"measurement window {name!r} was never begun (or has already ended)")
        t = self._sampler.sample_now()
        components = {c: self._end_meter(name, c, meter, t) for c, meter in self.meters.items()}
        return WindowMeasurement(
            name,
            self._windows.pop(name),
            t,
            components,
            self.minimum_window_s(WINDOW_RELATIVE_RESOLUTION),
        )

    def _prepare_begins(self) -> dict[str, Exception]:
        """Each meter's work before a window's start timestamp (so that it stays out of the
        window); the errors by component."""
        failed = {}
        for component, meter in self.meters.items():
            try:
                meter.prepare_begin()
            except Exception as error:
                failed[component] = error
        return failed

    def _end_meter(self, name: str, component: str, meter: Meter, t: float) -> ComponentEnergy:
        why = self._failed_begins.pop((name, component), None)
        if why is None:
            try:
                return meter.end_window(name, t, self._timeline)
            except Exception as error:  # the figure is lost, the run goes on
                why = f"could not end the window: {type(error).__name__}: {error}"
        return ComponentEnergy(component, None, None, reason=why)

    def window_from_timeline(self, name: str, start_s: float, end_s: float) -> WindowMeasurement:
        """Energy over [start_s, end_s] (monitor clock, e.g. from ``now()``) chosen after the
        fact, such as a serving benchmark's steady-state window, by integrating the sampled
        power of every device. Coarser than a window opened with ``begin_window``: use that
        where the edges are known in advance."""
        if not end_s > start_s:
            raise ValueError(f"window {name!r}: end {end_s} s is not after start {start_s} s")
        if end_s > self.now():
            raise ValueError(
                f"window {name!r}: end {end_s} s lies in the future (now {self.now()} s)"
            )
        self._sampler.sample_now()
        components = {
            c: meter.energy_from_timeline(start_s, end_s, self._timeline)
            for c, meter in self.meters.items()
        }
        return WindowMeasurement(
            name, start_s, end_s, components, self.minimum_window_s(WINDOW_RELATIVE_RESOLUTION)
        )

    def cool_down(
        self,
        timeout_s: float,
        *,
        settle_s: float = 5.0,
        tolerance_c: float = 1.0,
        poll_s: float = 0.5,
    ) -> dict:
        """Wait until every GPU's temperature stayed within ``tolerance_c`` for ``settle_s``
        and, once the idle baseline has recorded one, is back within ``IDLE_MARGIN_C`` of its
        idle temperature; at most ``timeout_s``. Returns ``{"settled", "waited_s",
        "temperatures_c", "idle_temperatures_c", "reason"}``; ``settled`` is ``None`` where no
        device reports a temperature (then it returns at once)."""
        started = self.now()
        base = {
            "settle_s": settle_s,
            "tolerance_c": tolerance_c,
            "idle_margin_c": IDLE_MARGIN_C,
            "idle_temperatures_c": dict(self._idle_temperatures),
        }
        if not self.meters["gpu"].device_ids():
            return {
                **base,
                "settled": None,
                "waited_s": 0.0,
                "temperatures_c": {},
                "reason": "no GPU to cool down",
            }
        while True:
            now = self.now()
            recent = self._timeline.since(now - settle_s - 1.0)
            settled = temperatures_settled(
                recent, now, settle_s, tolerance_c, self._idle_temperatures
            )
            result = {
                **base,
                "waited_s": now - started,
                "temperatures_c": {
                    r["device"]: r["temperature_c"]
                    for r in recent
                    if r.get("temperature_c") is not None
                },
            }
            if settled and all(settled.values()):
                return {**result, "settled": True, "reason": None}
            if now - started >= timeout_s:
                if not settled:
                    return {**result, "settled": None, "reason": "no GPU reported a temperature"}
                moving = ", ".join(sorted(d for d, ok in settled.items() if not ok))
                return {
                    **result,
                    "settled": False,
                    "reason": f"temperature of {moving} still changing or above its idle "
                    f"temperature after the {timeout_s:g} s cool-down timeout",
                }
            time.sleep(poll_s)

    def process_start_s(self) -> tuple[float | None, str | None]:
        """When this process started, on the monitor's clock (negative: before the monitor
        opened), from its start time in /proc/self/stat and the time since boot in
        /proc/uptime (both 10 ms ticks); ``(None, reason)`` where /proc cannot say."""
        try:
            stat = Path("/proc/self/stat").read_text()
            started = int(stat[stat.rindex(")") + 2 :].split()[19]) / os.sysconf("SC_CLK_TCK")
            since_boot = float(Path("/proc/uptime").read_text().split()[0])
        except (OSError, ValueError, IndexError) as error:
            return None, f"the process's start time is unreadable: {error}"
        return self.now() - (since_boot - started), None

    def minimum_window_s(self, relative_resolution: float) -> float:
        """The shortest window every meter resolves to ``relative_resolution`` of its energy."""
        return max(
            (m.minimum_window_s(relative_resolution) for m in self.meters.values()), default=0.0
        )

    def measure_idle(
        self,
        seconds: float,
        *,
        settle_timeout_s: float = 60.0,
        settle_s: float = 5.0,
        max_spread: float = IDLE_MAX_SPREAD,
    ) -> IdleBaseline:
        """Average power per component while nothing runs.

        First settle: wait (at most ``settle_timeout_s``) until every GPU's temperature is
        flat for ``settle_s``, so the baseline does not catch a device still cooling from loading. Then
        measure for ``seconds``, or longer where a meter needs it to resolve idle power to
        1 % (the NVML counter: 20 s). The window's sub-windows must agree within
        ``max_spread`` of the idle power, or the component's idle power is ``None`` with the
        reason. ``method`` in the result records how it was taken."""
        if seconds <= 0:
            raise ValueError(f"idle baseline needs a positive duration, got {seconds} s")
        settle = self.cool_down(settle_timeout_s, settle_s=settle_s, poll_s=min(0.5, settle_s / 5))
        minimum = self.minimum_window_s(IDLE_RELATIVE_RESOLUTION)
        self.begin_window(IDLE_WINDOW)
        time.sleep(max(seconds, minimum))
        window = self.end_window(IDLE_WINDOW)
        step = window.duration_s / IDLE_SUB_WINDOWS
        subs = [
            self.window_from_timeline(
                f"{IDLE_WINDOW}.{i}", window.start_s + i * step, window.start_s + (i + 1) * step
            )
            for i in range(IDLE_SUB_WINDOWS)
        ]
        temperatures: dict[str, list[float]] = {}
        for record in self._timeline.since(window.start_s):
            if record.get("temperature_c") is not None and record["t"] <= window.end_s:
                temperatures.setdefault(record["device"], []).append(record["temperature_c"])
        self._idle_temperatures = {d: sum(v) / len(v) for d, v in temperatures.items()}
        method = {
            "requested_s": seconds,
            "minimum_s": minimum,
            "relative_resolution": IDLE_RELATIVE_RESOLUTION,
            "settle": settle,
            "sub_windows": IDLE_SUB_WINDOWS,
            "max_spread": max_spread,
            "description": "after the GPUs' temperature settled; at least long enough for the "
            "meters to resolve idle power to 1 %; valid when its sub-windows "
            "agree within max_spread",
        }
        return IdleBaseline.from_window(
            window,
            subs,
            max_spread=max_spread,
            method=method,
            temperatures_c=self._idle_temperatures,
        )

    def timeline(self) -> list[dict]:
        return self._timeline.records()

    def describe(self) -> dict:
        return {
            "meters": {
                c: {**meter.describe(), **meter.statement()} for c, meter in self.meters.items()
            },
            # components not measured by a counter, with the reason
            "unreadable": {c: meter.why for c, meter in self.meters.items() if meter.why},
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
