"""One model's benchmark run, start to finish, in the current process.

The job layer (energybench.job.model_job) starts this in a fresh process (or container) per model, so all memory the run
takes, on the host and on the GPU, is returned when it ends.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from energybench.run import provenance
from energybench.run.errors import ConfigError
from energybench.run.settings import RunConfig, apply_overrides
from energybench.run.errors import EXIT_INTERRUPTED, out_of_space
from energybench.run.provenance import Launch
from energybench.run.files import csv_text, json_text, write_atomic
from energybench.run.report import Report, write_report
from energybench.run.sections import WarmUp

log = logging.getLogger(__name__)

TIMELINE_NAME = "power_timeline.csv"
UNVALIDATED_NAME = "unvalidated_report.json"  # a measurement whose report failed to build
LOAD_WINDOW = "load"


def write_timeline(path: Path, samples: list[dict]) -> Path | None:
    if not samples:
        return None
    columns = sorted({key for sample in samples for key in sample})
    return write_atomic(
        path,
        csv_text(columns, ([sample.get(column, "") for column in columns] for sample in samples)),
    )


def measure(cfg: RunConfig, run_dir: Path, launch: Launch) -> Report:
    """Load (metered as its own window), baseline, warm up and run the trials; return the
    report of a completed run (``failed`` when a trial completed with too many failed
    requests)."""
    from energybench.run import report_builder
    from energybench.run.backend_registry import create_backend, metered_gpu_devices
    from energybench.run.meters import EnergyMonitor
    from energybench.run.meters.memory import gpu_peaks, host_peak

    started = provenance.now_iso()
    if cfg.reasoning_note:
        log.warning("%s", cfg.reasoning_note)
    with EnergyMonitor.create(
        gpu_devices=metered_gpu_devices(cfg), sample_hz=cfg.measurement.sample_hz
    ) as monitor:
        monitor.begin_window(LOAD_WINDOW)
        try:
            backend = create_backend(cfg, run_dir)
        finally:
            load_window = monitor.end_window(LOAD_WINDOW)
        with backend:
            log.info("model ready after %.1f s of loading", load_window.duration_s)
            log.info("measuring idle power for %.1f s", cfg.measurement.idle_seconds)
            idle = (
                monitor.measure_idle(
                    cfg.measurement.idle_seconds,
                    settle_timeout_s=cfg.measurement.cooldown_timeout_s,
                )
                if cfg.measurement.idle_seconds > 0
                else None
            )
            warm_up_start = monitor.now()
            backend.warm_up()
            warm_up = WarmUp.of(start_s=warm_up_start, end_s=monitor.now())
            count = cfg.trials_on(backend.device)
            trials = []
            for index in range(count):
                # Before every trial, the first included: warm-up heats the GPU too.
                cooldown = monitor.cool_down(cfg.measurement.cooldown_timeout_s)
                log.info("cool-down before trial %d: %s", index + 1, cooldown)
                log.info("trial %d/%d", index + 1, count)
                trial = backend.run_trial(index, monitor)
                trial.cooldown = cooldown
                trials.append(trial)
                if trial.failure:
                    log.error("trial %d failed: %s", index + 1, trial.failure)
                    break
            framework_peaks = backend.peak_memory()
        samples = monitor.timeline()
        timeline = write_timeline(run_dir / TIMELINE_NAME, samples)
        meters = monitor.describe()
        process_start, start_reason = monitor.process_start_s()
    # After the backend closed: a server it started has finished, and its peak is known.
    host = host_peak(in_container=launch.in_container, records=samples)
    uncounted = backend.uncounted
    gpu_used, gpu_reason = (
        (None, uncounted["gpu"])
        if "gpu" in uncounted
        else gpu_peaks(samples, monitor.meters["gpu"].device_ids())
    )
    run_provenance = provenance.collect(
        cfg.digest(), launch, started, {"backend": backend.info(), "meters": meters}
    )
    try:
        return report_builder.completed_report(
            cfg.to_dict(),
            trials,
            idle,
            uncounted,
            cfg.measurement.carbon_intensity_g_per_kwh,
            timeline.name if timeline else None,
            run_provenance,
            load=report_builder.load_section(
                load_window, idle, uncounted, process_start, start_reason
            ),
            memory=report_builder.memory_section(gpu_used, gpu_reason, framework_peaks, host),
            warm_up=warm_up,
        )
    except Exception as exc:  # a bug in building the report must not lose the measurement
        raise ReportNotWritten(
            exc,
            keep_unvalidated(
                run_dir,
                {
                    "trials": trials,
                    "idle": idle,
                    "uncounted": uncounted,
                    "load_window": load_window,
                    "load_process_start_s": process_start,
                    "warm_up": warm_up,
                    "memory": {
                        "gpu_used": gpu_used,
                        "gpu_reason": gpu_reason,
                        "framework_peaks": framework_peaks,
                        "host": host,
                    },
                    "timeline_file": timeline.name if timeline else None,
                    "provenance": run_provenance,
                },
            ),
        ) from exc


class ReportNotWritten(RuntimeError):
    """The run measured, but its report could not be built, validated or encoded (a bug):
    the failed report it gets instead names the file that keeps the figures."""

    def __init__(self, error: BaseException, kept: Path) -> None:
        first_line = (str(error).splitlines() or [""])[0]
        super().__init__(
            f"the run measured, but its report could not be built or written "
            f"({type(error).__name__}: {first_line}); the measured figures are kept, "
            f"unchecked, in {kept.name} beside this report"
        )


def keep_unvalidated(run_dir: Path, measured: dict) -> Path:
    """Write what the run measured as strict JSON, no schema checked (NaN and infinities as
    null), to ``unvalidated_report.json`` in ``run_dir``; return its path."""
    return write_atomic(run_dir / UNVALIDATED_NAME, json_text(plain_json(measured)))


def plain_json(value):
    """``value`` as JSON data: dataclasses and pydantic models as objects, numpy values as
    numbers and lists, NaN and infinities as null, anything else as its text."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain_json(item) for item in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy
        return plain_json(value.tolist())
    return str(value)


def run(config: dict, output: str | Path, overrides: list[str] = ()) -> int:
    """Run one benchmark and write its report; 0 when it succeeded, 1 when it failed.

    A failed run still writes a report (status ``failed``, the error, every figure null), so
    the tables keep the model's row. A run whose report cannot be built, validated or encoded
    keeps what it measured in ``unvalidated_report.json`` beside it (:class:`ReportNotWritten`).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    config = dict(config)
    launch_block = config.pop("launch", None)  # the job layer's; absent when run by hand
    launch = Launch.from_dict(launch_block) if launch_block else Launch.direct()
    model = config.get("model", output.parent.name)
    started = provenance.now_iso()
    try:
        if launch_block and not overrides:  # the workflow's: validated when it was parsed
            cfg = RunConfig.from_dict(config)
        else:
            cfg = RunConfig.validated(apply_overrides(config, list(overrides)))
    except ConfigError as exc:
        log.error("model %s: invalid run config: %s", model, exc)
        write_report(
            output,
            Report.failed(model, config, exc, provenance.collect(None, launch, started)).to_dict(),
        )
        return 1
    if launch.gpus is not None:  # the GPUs the job holds: `device: auto` goes by them
        cfg = dataclasses.replace(cfg, gpus_held=len(launch.gpus))
    try:
        report = measure(cfg, output.parent, launch)
    except Exception as exc:  # any failure of the run is recorded in its report
        if out_of_space(exc):
            return _out_of_space(model, exc)
        if isinstance(exc, ConfigError):  # the user's to fix: one paragraph, no traceback
            log.error("model %s: %s", model, exc)
        else:
            log.exception("model %s: run failed", model)
        report = Report.failed(
            model, cfg.to_dict(), exc, provenance.collect(cfg.digest(), launch, started)
        )
    try:
        try:
            write_report(output, report.to_dict())
        except ValueError as exc:  # it does not validate, or holds a NaN: a bug
            error = ReportNotWritten(exc, keep_unvalidated(output.parent, report.to_dict()))
            log.error("model %s: %s", model, error)
            report = Report.failed(model, cfg.to_dict(), error, report.provenance.to_dict())
            write_report(output, report.to_dict())
    except OSError as exc:
        if out_of_space(exc):
            return _out_of_space(model, exc)
        raise
    log.info("model %s: %s; report %s", model, report.status, output)
    return 0 if report.succeeded else 1


def _out_of_space(model: str, error: BaseException) -> int:
    """A full disk is no failure of the model: no report, and an exit code the job layer
    reads as an interruption, so the next run redoes the model."""
    log.error(
        "model %s: stopped, no space left on the device (%s); free some and rerun", model, error
    )
    return EXIT_INTERRUPTED
