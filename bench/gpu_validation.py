#!/usr/bin/env python3
"""Validate the GPU meters on this machine: what the NVML counter and power readings really
resolve, and whether the ways energybench measures (counter windows, power integrals, idle
baseline, repeated prefill, trials, after-the-fact windows, the model load as its own
window, peak memory) agree within the limits
docs/gpu-check.md states. Prints each figure with PASS/FAIL and writes a JSON of them.

    python bench/gpu_validation.py [--out build/gpu_validation.json]      # GPU 0, < 9 min
    python bench/gpu_validation.py --stand-in --time-scale 0.05           # CPU, NVML stand-in

On a GPU the load is a bf16 matrix multiplication loop (PyTorch, CUDA). ``--stand-in`` runs
the same steps against tests/fake_nvml.py's SimulatedGpu (a counter refreshed every 20 ms, a
1 s averaged reading, a lagging temperature), with every duration multiplied by
``--time-scale``, so CI exercises the script end to end. Exit status: 0 when no figure failed,
1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from energybench.run.energy.checks import _relative_difference as relative_difference  # noqa: E402
from energybench.run.energy.checks import check_counter_vs_integral  # noqa: E402
from energybench.run.files import write_atomic  # noqa: E402
from energybench.run.meters import EnergyMonitor  # noqa: E402
from energybench.run.meters import nvml as nvml_meter  # noqa: E402
from energybench.run.meters.memory import gpu_peaks, host_peak  # noqa: E402
from energybench.run.report_builder import load_section  # noqa: E402


# What the load step writes (a small model's weights) and what the peak-memory step holds.
LOAD_BYTES = 4 * 2**30
PEAK_BYTES = 2 * 2**30


class CudaLoad:
    """GPU 0 through pynvml, loaded by back-to-back bf16 matrix multiplications."""

    def __init__(self):
        import pynvml
        import torch

        self.nvml, self.torch = pynvml, torch
        pynvml.nvmlInit()
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        self.b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        self._stop = threading.Event()
        self._thread = None
        name = pynvml.nvmlDeviceGetName(self.handle)
        self.name = name.decode() if isinstance(name, bytes) else name

    def _spin(self, until=None):
        while not self._stop.is_set() and (until is None or time.monotonic() < until):
            for _ in range(4):
                self.a @ self.b
            self.torch.cuda.synchronize()

    def set_load(self, on: bool) -> None:
        if on and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        elif not on and self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def burst(self, seconds: float) -> None:
        self._stop.clear()
        self._spin(time.monotonic() + seconds)

    def counter_mj(self) -> float:
        return float(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))

    def instant_w(self) -> float | None:
        nvml = self.nvml
        value = nvml.nvmlDeviceGetFieldValues(
            self.handle, [(nvml.NVML_FI_DEV_POWER_INSTANT, nvml.NVML_POWER_SCOPE_GPU)]
        )[0]
        return (
            nvml_meter._field_number(value) / 1000
            if value.nvmlReturn == nvml.NVML_SUCCESS
            else None
        )

    def average_w(self) -> float:
        return self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000

    @contextlib.contextmanager
    def holding(self, nbytes: int):
        """``nbytes`` of GPU memory, written (as loading weights writes them), held for the
        ``with`` block and then given back to the driver."""
        block = self.torch.empty(nbytes, dtype=self.torch.uint8, device="cuda")
        block.fill_(1)
        self.torch.cuda.synchronize()
        try:
            yield
        finally:
            del block
            self.torch.cuda.empty_cache()

    def framework_peaks(self) -> tuple[int | None, int | None]:
        """torch's peak allocated and reserved CUDA memory since its last reset."""
        return self.torch.cuda.max_memory_allocated(), self.torch.cuda.max_memory_reserved()

    def reset_framework_peaks(self) -> None:
        self.torch.cuda.reset_peak_memory_stats()


class StandInLoad(CudaLoad):
    """The same interface over tests/fake_nvml.py's SimulatedGpu."""

    def __init__(self, time_scale: float):
        sys.path.insert(0, str(REPO / "tests"))
        from fake_nvml import FakeNvml, SimulatedGpu

        self.gpu = SimulatedGpu(time_scale=time_scale)
        self.nvml = FakeNvml([self.gpu])
        self.handle = self.gpu
        self.name = self.gpu.name
        # The stand-in refreshes its counter faster by the same scale: so does the meter's model.
        nvml_meter.COUNTER_REFRESH_S *= time_scale

    def set_load(self, on: bool) -> None:
        self.gpu.set_load(on)

    def burst(self, seconds: float) -> None:
        self.gpu.set_load(True)
        time.sleep(seconds)
        self.gpu.set_load(False)

    @contextlib.contextmanager
    def holding(self, nbytes: int):
        self.gpu.memory_used_bytes += nbytes
        try:
            yield
        finally:
            self.gpu.memory_used_bytes -= nbytes

    def framework_peaks(self) -> tuple[int | None, int | None]:
        return None, None  # no framework holds the stand-in's memory

    def reset_framework_peaks(self) -> None:
        pass


class Validation:
    def __init__(self, device, monitor: EnergyMonitor, scale: float):
        self.device, self.monitor, self.scale = device, monitor, scale
        self.figures: list[dict] = []

    def s(self, seconds: float) -> float:
        return seconds * self.scale

    def figure(self, name, value, unit, limit=None, passed=None, detail=""):
        self.figures.append(
            {
                "name": name,
                "value": value,
                "unit": unit,
                "limit": limit,
                "passed": passed,
                "detail": detail,
            }
        )
        verdict = {True: "PASS", False: "FAIL", None: "info"}[passed]
        shown = "null" if value is None else f"{value:.4g}" if isinstance(value, float) else value
        print(
            f"  {verdict} {name}: {shown} {unit}"
            + (f" (limit {limit})" if limit is not None else "")
            + (f"  {detail}" if detail else ""),
            flush=True,
        )

    def gpu_window(self, name: str, seconds: float, during=None):
        """The GPU's figure over a window of ``seconds`` (or of ``during()``); its
        ``duration_s`` is set from the window."""
        self.monitor.begin_window(name)
        if during:
            during()
        else:
            time.sleep(seconds)
        window = self.monitor.end_window(name)
        gpu = window.components["gpu"]
        gpu.detail["window_s"] = window.duration_s
        return gpu

    # 1. update intervals and step sizes
    def update_intervals(self):
        print("1. counter and power-reading update intervals and step sizes", flush=True)
        for state, on in (("idle", False), ("load", True)):
            self.device.set_load(on)
            time.sleep(self.s(1.0))
            for reading, read in (
                ("counter", self.device.counter_mj),
                ("instant_power", self.device.instant_w),
                ("averaged_power", self.device.average_w),
            ):
                changes, last, end = [], read(), time.monotonic() + self.s(2.0)
                while time.monotonic() < end:
                    value = read()
                    if value != last:
                        changes.append(
                            (
                                time.monotonic(),
                                value - last if last is not None and value is not None else None,
                            )
                        )
                        last = value
                    time.sleep(0.0005)
                gaps = [b[0] - a[0] for a, b in zip(changes, changes[1:])]
                interval = statistics.median(gaps) if gaps else None
                steps = [abs(c[1]) for c in changes if c[1] is not None]
                step = statistics.median(steps) if steps else None
                if reading == "counter":
                    limit = nvml_meter.COUNTER_REFRESH_S
                    passed = None if state == "idle" else interval is not None and interval <= limit
                    self.figure(
                        f"counter_update_interval_{state}",
                        interval,
                        "s",
                        limit,
                        passed,
                        f"median step {step} mJ; the meter's resolution assumes <= {limit:g} s",
                    )
                else:
                    self.figure(
                        f"{reading}_update_interval_{state}",
                        interval,
                        "s",
                        detail=f"median step {step} W",
                    )
        self.device.set_load(False)

    # 2. step response
    def step_response(self):
        print("2. step response of instant and averaged power", flush=True)
        time.sleep(self.s(3.0))
        idle = {"instant": self.device.instant_w(), "averaged": self.device.average_w()}
        trace = []
        started = time.monotonic()
        self.device.set_load(True)
        while time.monotonic() - started < self.s(3.0):
            trace.append(
                (time.monotonic() - started, self.device.instant_w(), self.device.average_w())
            )
            time.sleep(self.s(0.01))
        self.device.set_load(False)
        for column, kind, limit in ((1, "instant", 0.25), (2, "averaged", 1.25)):
            values = [(row[0], row[column]) for row in trace]
            final = (
                statistics.median(v for t, v in values if t >= self.s(2.5) and v is not None)
                if idle[kind] is not None
                else None
            )
            if final is None:
                self.figure(f"{kind}_power_t90", None, "s", detail="reading not offered")
                continue
            target = idle[kind] + 0.9 * (final - idle[kind])
            t90 = next((t for t, v in values if v is not None and v >= target), None)
            self.figure(
                f"{kind}_power_t90",
                t90,
                "s",
                self.s(limit),
                t90 is not None and t90 <= self.s(limit),
                f"idle {idle[kind]:.4g} W -> load {final:.4g} W",
            )

    # 3. counter against power integral, constant load
    def counter_vs_integral(self):
        print("3. counter against power integral over constant-load windows", flush=True)
        self.device.set_load(True)
        time.sleep(self.s(2.0))
        for seconds, limit in ((1, None), (5, 0.05), (10, 0.02), (30, 0.02)):
            gpu = self.gpu_window(f"constant-{seconds}s", self.s(seconds))
            counter, integral = gpu.detail.get("counter_j"), gpu.detail.get("integral_j")
            diff = (
                relative_difference(counter, integral) if None not in (counter, integral) else None
            )
            self.figure(
                f"counter_vs_integral_{seconds}s",
                diff,
                "fraction",
                limit,
                None if limit is None or diff is None else diff <= limit,
                f"counter {counter} J, integral {integral} J",
            )
            if seconds == 30:
                self.load_w = counter / gpu.detail["window_s"] if counter else None
        self.device.set_load(False)

    # 4. short windows against their resolution
    def short_windows(self):
        print("4. short prefill-like windows against their stated resolution", flush=True)
        self.device.set_load(True)
        time.sleep(self.s(2.0))
        for ms in (20, 50, 100, 200, 500):
            errors, within = [], True
            for repeat in range(5):
                gpu = self.gpu_window(f"short-{ms}ms-{repeat}", self.s(ms / 1000))
                expected = self.load_w * gpu.detail["window_s"]
                counter = gpu.detail.get("counter_j")
                error = abs((counter or 0.0) - expected)
                errors.append(error / expected if expected else None)
                within &= (
                    counter is not None
                    and error <= (gpu.detail.get("counter_resolution_j") or 0.0) + 1e-3
                )
            self.figure(
                f"short_window_{ms}ms_error",
                max(e for e in errors if e is not None),
                "fraction",
                "stated resolution",
                within,
                "worst of 5 windows; passes when every error is within the meter's stated resolution_j",
            )
        self.device.set_load(False)

    # 5. idle baseline after a load
    def idle_after_load(self):
        print("5. idle-baseline stability after a load", flush=True)
        self.device.set_load(True)
        time.sleep(self.s(5.0))
        self.device.set_load(False)
        idle = self.monitor.measure_idle(
            self.s(20.0), settle_timeout_s=self.s(60.0), settle_s=self.s(5.0)
        )
        gpu = idle.components["gpu"]
        spread = (
            gpu.uncertainty_w / gpu.watts if gpu.watts and gpu.uncertainty_w is not None else None
        )
        self.idle = idle
        self.figure(
            "idle_sub_window_spread",
            spread,
            "fraction",
            idle.method["max_spread"],
            gpu.watts is not None,
            f"idle {gpu.watts} W over {idle.duration_s:.3g} s; settled: "
            f"{idle.method['settle']['settled']}; {gpu.reason or ''}",
        )
        self.idle_w = gpu.watts

    # 6. single-pass against repeated prefill
    def prefill(self):
        print("6. single-pass against repeated prefill", flush=True)
        burst = self.s(0.05)
        single = self.gpu_window("prefill-single", 0, lambda: self.device.burst(burst))
        repeated = []
        for attempt in range(2):
            passes = 0

            def run():
                nonlocal passes
                started = time.monotonic()
                while passes < 10 or time.monotonic() - started < self.s(10.0):
                    self.device.burst(burst)
                    passes += 1

            gpu = self.gpu_window(f"prefill-repeated-{attempt}", 0, run)
            repeated.append(gpu.joules / passes if gpu.joules is not None else None)
        agree = relative_difference(*repeated) if None not in repeated else None
        self.figure(
            "repeated_prefill_reproducibility",
            agree,
            "fraction",
            0.05,
            agree is not None and agree <= 0.05,
            f"per pass {repeated[0]} J and {repeated[1]} J",
        )
        off = (
            relative_difference(single.joules, repeated[0])
            if None not in (single.joules, repeated[0])
            else None
        )
        # Informational: a short single pass is expected to miss by far more than 5 %.
        self.figure(
            "single_pass_prefill_vs_repeated",
            off,
            "fraction",
            0.05,
            None,
            f"single pass {single.joules} J ({single.source}); "
            f"{'within' if off is not None and off <= 0.05 else 'outside'} 5 %: "
            "outside is why energybench repeats the prefill",
        )

    # 7. trials and thermal drift
    def trials(self):
        print("7. trial-to-trial variation and thermal drift", flush=True)
        energies, temperatures = [], []
        for index in range(3):
            self.monitor.cool_down(self.s(30.0), settle_s=self.s(5.0), poll_s=self.s(0.5))
            temperatures.append(self.monitor.timeline()[-1].get("temperature_c"))
            self.device.set_load(True)
            energies.append(self.gpu_window(f"trial-{index}", self.s(10.0)).joules)
            self.device.set_load(False)
        cv = (
            statistics.stdev(energies) / statistics.fmean(energies)
            if None not in energies
            else None
        )
        self.figure(
            "trial_cv",
            cv,
            "fraction",
            0.03,
            cv is not None and cv <= 0.03,
            f"energies {energies} J",
        )
        drift = (energies[-1] - energies[0]) / energies[0] if None not in energies else None
        self.figure(
            "thermal_drift",
            drift,
            "fraction",
            0.03,
            drift is not None and abs(drift) <= 0.03,
            f"last trial against the first; temperatures at start {temperatures} °C",
        )

    # 8. after-the-fact window against a live counter window
    def after_the_fact(self):
        print("8. after-the-fact window against a live counter window", flush=True)
        self.device.set_load(True)
        time.sleep(self.s(2.0))
        self.monitor.begin_window("live")
        time.sleep(self.s(10.0))
        live = self.monitor.end_window("live")
        self.device.set_load(False)
        time.sleep(self.s(0.5))
        after = self.monitor.window_from_timeline("after", live.start_s, live.end_s)
        a, b = live.components["gpu"].joules, after.components["gpu"].joules
        diff = relative_difference(a, b) if None not in (a, b) else None
        self.figure(
            "after_the_fact_vs_live",
            diff,
            "fraction",
            0.02,
            diff is not None and diff <= 0.02,
            f"live counter {a} J, from the timeline {b} J",
        )

    # 9. the model load as its own window
    def model_load(self):
        print("9. a model-load-like window: weights written, then a warm-up burst", flush=True)
        self.monitor.begin_window("load")
        with self.device.holding(LOAD_BYTES):
            self.device.burst(self.s(5.0))
            window = self.monitor.end_window("load")
        start, why = self.monitor.process_start_s()
        load = load_section(window, self.idle, {}, start, why)
        gpu = load.components["gpu"]
        self.figure(
            "load_seconds_from_process_start",
            load.duration_s,
            "s",
            detail=f"{load.before_meters_s} s before the meters opened; metered "
            f"{load.metered_s:.3g} s; {load.reason or ''}",
        )
        detail = window.components["gpu"].detail
        check = check_counter_vs_integral(
            detail.get("counter_j"),
            detail.get("integral_j"),
            resolution_j=None
            if None in (detail.get("counter_resolution_j"), detail.get("integral_resolution_j"))
            else detail["counter_resolution_j"] + detail["integral_resolution_j"],
        )
        self.figure(
            "load_counter_vs_integral",
            check.value,
            "fraction",
            check.limit,
            check.passed,
            check.detail,
        )
        split = (
            None not in (gpu.gross_joules, gpu.idle_joules, gpu.net_joules)
            and abs(gpu.gross_joules - gpu.idle_joules - gpu.net_joules) <= 1e-6 * gpu.gross_joules
        )
        self.figure(
            "load_gpu_net",
            gpu.net_joules,
            "J",
            "> 0 and gross = idle + net",
            gpu.net_joules is not None and gpu.net_joules > 0 and split,
            f"gross {gpu.gross_joules} J, idle {gpu.idle_joules} J "
            f"({gpu.net_reason or 'net known'})",
        )

    # 10. peak memory
    def peak_memory(self):
        print(
            "10. peak GPU memory: NVML's sampled peak and the framework's against a known "
            "allocation",
            flush=True,
        )
        started = self.monitor.now()
        time.sleep(self.s(0.5))
        allocating = self.monitor.now()
        self.device.reset_framework_peaks()
        with self.device.holding(PEAK_BYTES):
            time.sleep(self.s(1.0))  # several samples while it is held
        time.sleep(self.s(0.5))
        records = [r for r in self.monitor.timeline() if r["t"] >= started]
        devices = self.monitor.meters["gpu"].device_ids()
        before, _ = gpu_peaks([r for r in records if r["t"] < allocating], devices)
        peaks, why = gpu_peaks(records, devices)
        rise = (
            None
            if None in (before or {}).values() or None in (peaks or {}).values() or not peaks
            else (peaks["gpu0"] - before["gpu0"]) / PEAK_BYTES
        )
        self.figure(
            "nvml_peak_memory_rise",
            rise,
            "x allocation",
            "1.0 to 1.1",
            rise is not None and 1.0 <= rise <= 1.1,
            f"{PEAK_BYTES} B allocated; NVML in use before {before} B, peak "
            f"{peaks} ({why or 'every device read'})",
        )
        allocated, reserved = self.device.framework_peaks()
        self.figure(
            "framework_peak_allocated",
            allocated,
            "B",
            f">= {PEAK_BYTES}",
            None
            if allocated is None
            else allocated >= PEAK_BYTES and (reserved or 0) >= PEAK_BYTES,
            f"reserved {reserved} B (must hold the allocation too)",
        )
        host = host_peak(in_container=False)
        self.figure("host_peak_memory", host.bytes, "B", detail=f"{host.source}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "build/gpu_validation.json")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="run on the CPU against tests/fake_nvml.py's simulated GPU",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="multiply every duration (default 1 on a GPU, 0.05 with --stand-in)",
    )
    args = parser.parse_args(argv)
    scale = args.time_scale or (0.05 if args.stand_in else 1.0)
    device = StandInLoad(scale) if args.stand_in else CudaLoad()
    started = time.monotonic()
    print(
        f"validating {device.name} ({'stand-in' if args.stand_in else 'GPU 0'}), "
        f"time scale {scale:g}",
        flush=True,
    )
    stand_in = {"environ": {}, "powercap_root": "/nonexistent"} if args.stand_in else {}
    with EnergyMonitor.create(
        gpu_devices=[0], sample_hz=20, nvml=device.nvml, **stand_in
    ) as monitor:
        check = Validation(device, monitor, scale)
        for step in (
            check.update_intervals,
            check.step_response,
            check.counter_vs_integral,
            check.short_windows,
            check.idle_after_load,
            check.prefill,
            check.trials,
            check.after_the_fact,
            check.model_load,
            check.peak_memory,
        ):
            step()
        meters = monitor.describe()["meters"]["gpu"]
    failed = [f["name"] for f in check.figures if f["passed"] is False]
    result = {
        "device": device.name,
        "stand_in": args.stand_in,
        "time_scale": scale,
        "seconds": time.monotonic() - started,
        "meter": meters,
        "figures": check.figures,
        "failed": failed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Strict JSON as every file we write (a NaN figure is a bug to see, not to store).
    write_atomic(args.out, json.dumps(result, indent=2, default=str, allow_nan=False))
    print(
        f"{len(check.figures)} figures, {len(failed)} failed: {', '.join(failed) or 'none'}; "
        f"{result['seconds']:.0f} s; written to {args.out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
