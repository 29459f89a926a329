"""GPU energy from NVML (nvidia-ml-py): the total-energy counter, with integrated power as fallback.

Per device and window the meter reads the counter (mJ since driver load) at both edges. When a
device has no counter, the counter errs, or it did not move over the window, the energy is the
trapezoidal integral of the power the sampler recorded. The integral is computed for every
device anyway, so the report can show how well the two agree.

Power is NVML's instantaneous reading (field ``NVML_FI_DEV_POWER_INSTANT``) where the driver
offers it; otherwise ``nvmlDeviceGetPowerUsage``, which on Ampere and newer GPUs (except
GA100) is a 1-second average that lags the load. Under MIG, counter and power belong to the
whole physical GPU, shared by every instance on it; the figure says so in its notes. On
modules with module-level power (e.g. Grace Hopper) that power is sampled too, beside the
GPU's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from energybench.run.energy.counters import CounterDelta, counter_delta
from energybench.run.energy.integrate import energy_from_totals, integrate_power
from energybench.run.meters.base import Meter, UnavailableMeter
from energybench.run.meters.gpu_devices import GpuDevice, resolve_gpu_devices
from energybench.run.meters.measurement import NVML, NVML_POWER_INTEGRAL, ComponentEnergy
from energybench.run.meters.memory import GPU_MEMORY_FIELD
from energybench.run.meters.timeline import Timeline

COUNTER_QUANTUM_J = 1e-3  # the counter counts millijoules
# The counter counts mJ but the driver refreshes it only every few tens of ms (up to ~100 ms
# on some boards): a window can miss up to one refresh at each end, so its resolution is
# about average power x this period, not 1 mJ.
COUNTER_REFRESH_S = 0.1

INSTANT = "instant"
AVERAGED = "nvmlDeviceGetPowerUsage (1 s average on Ampere and newer, except GA100)"
# How long a power reading averages over: an averaged reading lags a load change by half of it,
# which its integral carries at each window edge.
POWER_AVERAGING_S = {INSTANT: 0.0, AVERAGED: 1.0}
MODULE_FALLBACK_NOTE = (
    "{device}: no GPU-scope instantaneous power on a module that reports module power (such as "
    "Grace Hopper): the fallback reading, nvmlDeviceGetPowerUsage, may cover the whole module "
    "(GPU, CPU and memory), so this device's power integral and the checks on it may include "
    "the CPU and memory"
)


def open_gpu_meter(
    gpu_devices: Sequence[int | str] | None = None, *, nvml=None, environ=os.environ
) -> Meter:
    """An NVML meter for the run's GPUs, or an ``UnavailableMeter`` saying why there is none."""
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            return UnavailableMeter("gpu", "nvidia-ml-py (pynvml) is not installed")
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as error:
        return UnavailableMeter(
            "gpu", f"NVML unavailable ({error}): no NVIDIA driver or GPU on this machine"
        )
    try:
        selection = resolve_gpu_devices(
            nvml,
            environ.get("CUDA_VISIBLE_DEVICES"),
            gpu_devices,
            cuda_device_order=environ.get("CUDA_DEVICE_ORDER"),
        )
    except BaseException:
        nvml.nvmlShutdown()
        raise
    if not selection.devices:
        nvml.nvmlShutdown()
        return UnavailableMeter("gpu", selection.reason, {"notes": selection.notes})
    return NvmlMeter(nvml, selection.devices, selection.notes)


def _field_number(value) -> float:
    """The number in an nvmlFieldValue_t, whatever its declared type."""
    members = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal", 6: "usVal"}
    return float(getattr(value.value, members[value.valueType]))


@dataclass
class _Gpu:
    """What NVML offers for one physical GPU, probed once."""

    device: GpuDevice
    name: str
    power_limit_w: float | None
    mig_enabled: bool
    has_counter: bool
    power_reading: str | None
    module_power: bool
    probe_errors: dict[str, str] = field(default_factory=dict)


class NvmlMeter(Meter):
    component = "gpu"

    timeline_source = NVML_POWER_INTEGRAL
    resolution_rule = (
        "counter: max(1 mJ, 2 x the window's average power x 0.1 s) per device (one ~0.1 s "
        "refresh missed at each edge); power integral: peak sampled power x (the longest gap "
        "between samples + half the reading's averaging period)"
    )

    def __init__(self, nvml, devices: list[GpuDevice], notes: list[str] | None = None) -> None:
        super().__init__()
        self.nvml = nvml
        self.notes = list(notes or [])
        self.gpus = [self._probe(d) for d in devices]
        self._starts: dict[str, dict[str, float | str]] = {}
        self._errors: dict[str, str] = {}
        self._errors_lock = threading.Lock()
        for gpu in self.gpus:
            if gpu.mig_enabled:
                self.notes.append(
                    f"{gpu.device.device}: MIG is enabled on {gpu.device.uuid}; NVML energy and power cover the "
                    "whole physical GPU, including work of other MIG instances on it"
                )
            if gpu.module_power and gpu.power_reading != INSTANT:
                self.notes.append(MODULE_FALLBACK_NOTE.format(device=gpu.device.device))

    # --- probing -------------------------------------------------------------------------
    def _try(self, read, errors: dict[str, str], what: str):
        try:
            return read()
        except self.nvml.NVMLError as error:
            errors[what] = str(error)
            return None

    def _power_field(self, handle, scope: int) -> float | None:
        """Instantaneous power (W) at an NVML power scope, or ``None`` if not offered."""
        nvml = self.nvml
        value = nvml.nvmlDeviceGetFieldValues(handle, [(nvml.NVML_FI_DEV_POWER_INSTANT, scope)])[0]
        if value.nvmlReturn != nvml.NVML_SUCCESS:
            return None
        return _field_number(value) / 1000.0

    def _probe(self, device: GpuDevice) -> _Gpu:
        nvml, handle, errors = self.nvml, device.handle, {}
        name = self._try(lambda: nvml.nvmlDeviceGetName(handle), errors, "name")
        limit_mw = self._try(
            lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle), errors, "power_limit"
        )
        mig = self._try(lambda: nvml.nvmlDeviceGetMigMode(handle), errors, "mig_mode")
        counter = self._try(
            lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle), errors, "energy_counter"
        )
        instant = self._try(
            lambda: self._power_field(handle, nvml.NVML_POWER_SCOPE_GPU), errors, "instant_power"
        )
        if instant is not None:
            reading = INSTANT
        else:
            averaged = self._try(
                lambda: nvml.nvmlDeviceGetPowerUsage(handle), errors, "power_usage"
            )
            reading = AVERAGED if averaged is not None else None
        module = self._try(
            lambda: self._power_field(handle, nvml.NVML_POWER_SCOPE_MODULE), errors, "module_power"
        )
        return _Gpu(
            device,
            name.decode() if isinstance(name, bytes) else name,
            limit_mw / 1000.0 if limit_mw is not None else None,
            bool(mig) and mig[0] == nvml.NVML_DEVICE_MIG_ENABLE,
            counter is not None,
            reading,
            module is not None,
            errors,
        )

    def device_ids(self) -> list[str]:
        return [gpu.device.device for gpu in self.gpus]

    def minimum_window_s(self, relative_resolution: float) -> float:
        # The counter can miss one refresh at each edge: 2 x 0.1 s of the window's power.
        return 2 * COUNTER_REFRESH_S / relative_resolution

    # --- reading -------------------------------------------------------------------------
    def _read_counter(self, gpu: _Gpu) -> float | str:
        """Counter in mJ, or the reason it cannot be read."""
        if not gpu.has_counter:
            return (
                "this GPU has no total-energy counter ("
                + gpu.probe_errors.get("energy_counter", "not supported")
                + ")"
            )
        try:
            return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.device.handle))
        except self.nvml.NVMLError as error:
            return f"energy counter read failed: {error}"

    def _read_power(self, gpu: _Gpu) -> float | None:
        handle = gpu.device.handle
        if gpu.power_reading == INSTANT:
            return self._power_field(handle, self.nvml.NVML_POWER_SCOPE_GPU)
        if gpu.power_reading == AVERAGED:
            return self.nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
        return None

    def _begin(self, name: str, t: float) -> None:
        self._starts[name] = {gpu.device.device: self._read_counter(gpu) for gpu in self.gpus}

    def _device_energy(
        self,
        gpu: _Gpu,
        counter: CounterDelta | str,
        start: float,
        end: float,
        timeline: Timeline,
        *,
        counter_gap_s: float = 0.0,
    ) -> dict:
        """One device's energy over [start, end]: the counter's ``counter`` delta (mJ), or the
        reason it has none, with the power integral as cross-check and fallback.
        ``counter_gap_s``: for a delta interpolated between counter readings (a window chosen
        after the fact), the longest interval between them, whose power may have changed."""
        device = gpu.device.device
        times, watts = timeline.series(device)
        integral = integrate_power(times, watts, start, end, max_gap_s=self.max_gap_s)
        used = [w for t, w in zip(times, watts) if w is not None and start <= t <= end]
        result = {
            "joules": None,
            "source": None,
            "counter_j": None,
            "integral_j": integral.joules,
            "integral_samples": integral.samples,
            "reason": None,
        }
        if isinstance(counter, str):
            counter_problem = counter
        else:
            counter_problem = counter.reason
            if counter.valid:
                result["counter_j"] = counter.delta / 1000.0
                if counter.delta == 0:
                    counter_problem = "energy counter did not move over the window"
        peak = max(used, default=0.0)
        # The integral can miss what happens within one sample gap at each edge, and an
        # averaged reading lags by half its averaging period.
        integral_resolution = peak * (
            (integral.max_gap_s or 0.0) + POWER_AVERAGING_S.get(gpu.power_reading, 0.0) / 2
        )
        result["integral_resolution_j"] = (
            integral_resolution if integral.joules is not None else None
        )
        result["counter_resolution_j"] = None
        if result["counter_j"] is not None:
            duration = end - start
            # A counter that did not move says nothing of the power: take the samples' then.
            joules = max(result["counter_j"], integral.joules or 0.0)
            power = joules / duration if duration > 0 else 0.0
            result["counter_resolution_j"] = (
                max(COUNTER_QUANTUM_J, 2 * power * COUNTER_REFRESH_S) + peak * counter_gap_s
            )
        if counter_problem is None:
            result.update(
                joules=result["counter_j"], source=NVML, resolution_j=result["counter_resolution_j"]
            )
        elif integral.joules is not None:
            result.update(
                joules=integral.joules,
                source=NVML_POWER_INTEGRAL,
                reason=f"{counter_problem}; used integrated power instead",
                resolution_j=integral_resolution,
            )
        else:
            result["reason"] = f"{counter_problem}; power integral unusable too: {integral.reason}"
        if gpu.module_power:
            m_times, m_watts = timeline.series(device, "module_power_w")
            result["module_integral_j"] = integrate_power(
                m_times, m_watts, start, end, max_gap_s=self.max_gap_s
            ).joules
        return result

    def _end(self, name: str, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        starts = self._starts.pop(name)
        per_device = {}
        for gpu in self.gpus:
            device, first, last = (
                gpu.device.device,
                starts[gpu.device.device],
                self._read_counter(gpu),
            )
            counter = next((r for r in (first, last) if isinstance(r, str)), None) or counter_delta(
                first, last
            )
            per_device[device] = self._device_energy(gpu, counter, start, end, timeline)
        return self._component(per_device)

    def energy_from_timeline(self, start: float, end: float, timeline: Timeline) -> ComponentEnergy:
        """Energy over [start, end] chosen after the fact: from the counter readings the
        sampler recorded (``energy_j``), interpolated at the edges, where the device has a
        counter; otherwise (or where they leave a gap) from the integrated power."""
        per_device = {}
        for gpu in self.gpus:
            device = gpu.device.device
            totals = energy_from_totals(
                *timeline.series(device, "energy_j"), start, end, max_gap_s=self.max_gap_s
            )
            counter = totals.reason if totals.joules is None else CounterDelta(totals.joules * 1000)
            per_device[device] = self._device_energy(
                gpu, counter, start, end, timeline, counter_gap_s=totals.max_gap_s or 0.0
            )
        return self._component(per_device)

    def _component(self, per_device: dict[str, dict]) -> ComponentEnergy:
        devices = list(per_device)
        notes = list(self.notes)
        detail = {
            "per_device": per_device,
            "per_device_j": {d: r["joules"] for d, r in per_device.items()},
            "counter_j": _total(r["counter_j"] for r in per_device.values()),
            "integral_j": _total(r["integral_j"] for r in per_device.values()),
            "power_limit_w": _total(gpu.power_limit_w for gpu in self.gpus),
            "resolution_j": _total(r.get("resolution_j") for r in per_device.values()),
            "counter_resolution_j": _total(r["counter_resolution_j"] for r in per_device.values()),
            "integral_resolution_j": _total(
                r["integral_resolution_j"] for r in per_device.values()
            ),
            "power_averaging_s": {
                gpu.device.device: POWER_AVERAGING_S.get(gpu.power_reading) for gpu in self.gpus
            },
            "mig_enabled": {gpu.device.device: gpu.mig_enabled for gpu in self.gpus},
        }
        missing = {d: r["reason"] for d, r in per_device.items() if r["joules"] is None}
        if missing:
            reason = "; ".join(f"{d}: {why}" for d, why in missing.items())
            return ComponentEnergy(
                "gpu", None, None, reason=reason, devices=devices, notes=notes, detail=detail
            )
        sources = {r["source"] for r in per_device.values()}
        fallbacks = {
            d: r["reason"] for d, r in per_device.items() if r["source"] == NVML_POWER_INTEGRAL
        }
        if fallbacks and len(sources) > 1:
            notes.append(
                "mixed sources: " + ", ".join(f"{d} {r['source']}" for d, r in per_device.items())
            )
        return ComponentEnergy(
            "gpu",
            sum(r["joules"] for r in per_device.values()),
            NVML_POWER_INTEGRAL if fallbacks else NVML,
            reason="; ".join(f"{d}: {why}" for d, why in fallbacks.items()) or None,
            devices=devices,
            notes=notes,
            detail=detail,
        )

    def sample(self, t: float) -> list[dict]:
        nvml, records = self.nvml, []
        for gpu in self.gpus:
            handle, device = gpu.device.handle, gpu.device.device
            readings = {
                "power_w": lambda: self._read_power(gpu),
                "temperature_c": lambda: nvml.nvmlDeviceGetTemperature(
                    handle, nvml.NVML_TEMPERATURE_GPU
                ),
                "sm_clock_mhz": lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM),
                "utilization_pct": lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu,
                # the whole device's memory in use, for the run's peak (meters/memory.py)
                GPU_MEMORY_FIELD: lambda: int(nvml.nvmlDeviceGetMemoryInfo(handle).used),
            }
            if gpu.module_power:
                readings["module_power_w"] = lambda: self._power_field(
                    handle, nvml.NVML_POWER_SCOPE_MODULE
                )
            if gpu.has_counter:  # the counter's running total, for windows chosen after the fact
                readings["energy_j"] = lambda: (
                    nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0
                )
            record = {"t": t, "device": device, "component": "gpu"}
            for key, read in readings.items():
                try:
                    record[key] = read()
                except nvml.NVMLError as error:
                    record[key] = None
                    with self._errors_lock:
                        self._errors.setdefault(f"{device}.{key}", str(error))
            records.append(record)
        return records

    def describe(self) -> dict:
        with self._errors_lock:
            errors = dict(self._errors)
        return {
            "meter": "nvml",
            "component": "gpu",
            "driver_version": self._driver_version(),
            "devices": [
                {
                    "device": gpu.device.device,
                    "name": gpu.name,
                    "uuid": gpu.device.uuid,
                    "nvml_index": gpu.device.nvml_index,
                    "visible_as": gpu.device.visible_as,
                    "mig_instance": gpu.device.mig_instance,
                    "mig_enabled": gpu.mig_enabled,
                    "power_limit_w": gpu.power_limit_w,
                    "energy_counter": gpu.has_counter,
                    "power_reading": gpu.power_reading,
                    "module_power": gpu.module_power,
                    "unreadable": gpu.probe_errors,
                }
                for gpu in self.gpus
            ],
            "notes": self.notes,
            "sampling_errors": errors,
        }

    def _driver_version(self) -> str | None:
        try:
            version = self.nvml.nvmlSystemGetDriverVersion()
        except self.nvml.NVMLError:
            return None
        return version.decode() if isinstance(version, bytes) else version

    def close(self) -> None:
        self.nvml.nvmlShutdown()


def _total(values) -> float | None:
    """Sum, or ``None`` if any term is unknown (a partial sum would pass for a whole one)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)
