"""A stand-in for the pynvml module: GPUs whose counters and power the test sets.

Only the calls the NVML meter makes are implemented; constants and error classes come from
the real nvidia-ml-py, which imports fine without a driver.
"""

from types import SimpleNamespace

import pynvml


class FakeGpu:
    def __init__(
        self,
        uuid,
        name="NVIDIA H100 80GB HBM3",
        *,
        counter_mj=1_000_000,
        power_w=100.0,
        limit_w=700.0,
        mig=False,
        has_counter=True,
        instant_power=True,
        module_power_w=None,
        mig_instances=(),
        temperature_c=41,
    ):
        self.uuid = uuid
        self.temperature_c = temperature_c
        self.name = name
        self.counter_mj = counter_mj
        self.power_w = power_w
        self.limit_w = limit_w
        self.mig = mig
        self.has_counter = has_counter
        self.instant_power = instant_power
        self.module_power_w = module_power_w
        self.mig_instances = {m: SimpleNamespace(uuid=m, parent=self) for m in mig_instances}
        self.lost = False
        self.memory_used_bytes = 2**30


def _error(code):
    return pynvml.NVMLError(code)


class FakeNvml:
    NVMLError = pynvml.NVMLError

    def __init__(self, gpus=(), init_error=None):
        self.gpus = list(gpus)
        self.init_error = init_error
        self.initialized = 0

    def __getattr__(self, name):  # NVML_* constants
        return getattr(pynvml, name)

    def _check(self, handle):
        gpu = getattr(handle, "parent", handle)
        if gpu.lost:
            raise _error(pynvml.NVML_ERROR_GPU_IS_LOST)
        return gpu

    def nvmlInit(self):
        if self.init_error is not None:
            raise _error(self.init_error)
        self.initialized += 1

    def nvmlShutdown(self):
        self.initialized -= 1

    def nvmlSystemGetDriverVersion(self):
        return "550.54.15"

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        return self.gpus[index]

    def nvmlDeviceGetHandleByUUID(self, uuid):
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
            if uuid in gpu.mig_instances:
                return gpu.mig_instances[uuid]
        raise _error(pynvml.NVML_ERROR_NOT_FOUND)

    def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(self, mig_handle):
        return mig_handle.parent

    def nvmlDeviceGetUUID(self, handle):
        return handle.uuid

    def nvmlDeviceGetName(self, handle):
        return self._check(handle).name

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        return int(self._check(handle).limit_w * 1000)

    def nvmlDeviceGetMigMode(self, handle):
        gpu = self._check(handle)
        return [int(gpu.mig), int(gpu.mig)]

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        gpu = self._check(handle)
        if not gpu.has_counter:
            raise _error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return gpu.counter_mj

    def nvmlDeviceGetFieldValues(self, handle, field_ids):
        gpu = self._check(handle)
        values = []
        for field_id, scope in field_ids:
            assert field_id == pynvml.NVML_FI_DEV_POWER_INSTANT
            watts = {
                pynvml.NVML_POWER_SCOPE_GPU: gpu.power_w if gpu.instant_power else None,
                pynvml.NVML_POWER_SCOPE_MODULE: gpu.module_power_w,
            }.get(scope)
            ok = watts is not None
            values.append(
                SimpleNamespace(
                    nvmlReturn=pynvml.NVML_SUCCESS if ok else pynvml.NVML_ERROR_NOT_SUPPORTED,
                    valueType=pynvml.NVML_VALUE_TYPE_UNSIGNED_INT,
                    value=SimpleNamespace(uiVal=int(watts * 1000) if ok else 0),
                )
            )
        return values

    def nvmlDeviceGetPowerUsage(self, handle):
        gpu = self._check(handle)
        return int(getattr(gpu, "average_power_w", gpu.power_w) * 1000)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return self._check(handle).temperature_c

    def nvmlDeviceGetClockInfo(self, handle, clock):
        self._check(handle)
        return 1980

    def nvmlDeviceGetMemoryInfo(self, handle):
        gpu = self._check(handle)
        return SimpleNamespace(
            total=80 * 2**30, used=gpu.memory_used_bytes, free=80 * 2**30 - gpu.memory_used_bytes
        )

    def nvmlDeviceGetUtilizationRates(self, handle):
        gpu = self._check(handle)
        if gpu.mig:
            raise _error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return SimpleNamespace(gpu=87, memory=30)


class SimulatedGpu(FakeGpu):
    """A GPU whose readings follow a load switched on and off in real time, with the
    imperfections the meters must cope with: the counter refreshes every ``refresh_s``,
    ``nvmlDeviceGetPowerUsage`` averages over the last ``averaging_s``, and the temperature
    follows the load with a lag. Time constants shrink with ``time_scale`` so a validation
    run fits in seconds. Used by bench/gpu_validation.py --stand-in."""

    def __init__(
        self,
        uuid="GPU-5100a7ed-0000-0000-0000-000000000000",
        *,
        idle_w=70.0,
        load_w=400.0,
        time_scale=1.0,
        clock=None,
    ):
        import time

        self._clock = clock or time.monotonic
        self.idle_w, self.load_w, self.scale = idle_w, load_w, time_scale
        self.refresh_s, self.averaging_s = 0.02 * time_scale, 1.0 * time_scale
        self._changes = [(self._clock() - 3600.0, idle_w)]  # (time, power from then on)
        super().__init__(uuid, "Simulated H100", limit_w=700.0)

    def set_load(self, on: bool) -> None:
        self._changes.append((self._clock(), self.load_w if on else self.idle_w))

    def energy_j(self, t: float) -> float:
        """True energy from the first change to ``t``."""
        total = 0.0
        for (start, watts), (end, _) in zip(self._changes, self._changes[1:] + [(t, None)]):
            if start >= t:
                break
            total += watts * (min(end, t) - start)
        return total

    def _power_at(self, t: float) -> float:
        return next(w for start, w in reversed(self._changes) if start <= t)

    # The stand-in's attributes, computed from the load history; assignments are ignored.
    counter_mj = property(
        lambda self: int(
            1000 * self.energy_j(self.refresh_s * int(self._clock() / self.refresh_s))
        ),
        lambda self, value: None,
    )
    power_w = property(lambda self: self._power_at(self._clock()), lambda self, value: None)
    average_power_w = property(
        lambda self: (
            (self.energy_j(self._clock()) - self.energy_j(self._clock() - self.averaging_s))
            / self.averaging_s
        )
    )

    @property
    def temperature_c(self):
        # 40 °C idle, +30 °C at full load, following the power of the last 10 s (scaled)
        now, span = self._clock(), 10.0 * self.scale
        mean = (self.energy_j(now) - self.energy_j(now - span)) / span
        return round(40 + 30 * (mean - self.idle_w) / (self.load_w - self.idle_w))

    @temperature_c.setter
    def temperature_c(self, value):
        pass


def no_gpu():
    """NVML as it behaves on a machine without the NVIDIA driver."""
    return FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
