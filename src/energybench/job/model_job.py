"""The job layer: one model's job, from its run config to a report, whatever happens.

This is what the Snakemake `benchmark` rule calls. It takes the job's GPUs
(energybench.job.gpus), starts the run in the model's runtime (energybench.job.isolation: a plain
process, docker, podman or apptainer) and, whatever happens to the run, leaves a report: the
run's own, or a failed one written here naming the model and the cause. How the run is
launched (runtime, image and its id, devices, container, code version) goes down to the run
in its run config's `launch` block, so each report is written once, by whoever writes it.
Each attempt runs in a directory of its own in the model's history, and is published (linked
into the model's run directory) when it ends (energybench.job.history): a rerun that fails never
destroys the last good report. A run stopped from outside (INT, TERM, HUP, the workflow's end,
a full disk) is no result and no failure of the model: the job then discards the attempt,
leaves no report and exits non-zero (JobInterrupted), so the next run of the workflow redoes it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from energybench.job import history

from energybench.run import provenance
from energybench.run.settings import Isolation, local_inputs
from energybench.job.gpus import GpuAllocationError, allocate_gpus
from energybench.job.isolation import LaunchError, LaunchSpec, prepare, run_prepared
from energybench.job.isolation.spec import HUB_CACHE_NONE, HUB_CACHE_READ, HUB_CACHE_WRITE
from energybench.job.keys import child_path
from energybench.job.isolation.errors import CAUSE_INTERRUPTED
from energybench.run.errors import EXIT_INTERRUPTED, out_of_space
from energybench.run.provenance import Launch, code_version
from energybench.run.files import write_json_atomic
from energybench.run.report import REPORT_NAME, Report, write_report
from energybench.job.secrets import needed_secrets, uses_hub, withheld_secrets
from energybench.job.workflow_guard import stop_when_workflow_ends

RUN_CONFIG_NAME = "run_config.json"
LOG_NAME = "benchmark.log"  # the job's log, kept with its attempt


def local_mounts(run_config: dict) -> list[Path]:
    """Absolute paths of the local model and dataset, which containers see at the same place.

    The run config keeps them as the workflow wrote them (often relative), so reports and
    their config hash do not depend on where the checkout lies; the run resolves them from
    the working directory it is given (``energybench run --workdir``).
    """
    return [Path(path).expanduser().resolve() for path in local_inputs(run_config).values()]


def hub_cache_access(run_config: dict, environ: Mapping[str, str]) -> str:
    """How much of the Hugging Face cache the run gets (energybench.job.isolation.spec): none
    without the Hub, read only when the workflow runs offline (HF_HUB_OFFLINE, the cache filled
    beforehand), else read and write, to download."""
    if not uses_hub(run_config):
        return HUB_CACHE_NONE
    offline = environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    return HUB_CACHE_READ if offline else HUB_CACHE_WRITE


def run_model_job(
    run_config: dict, report_path: str, log_path: str, gpus: int, image_id_file: str | None = None
) -> str:
    """Run one model on ``gpus`` GPUs (the count Snakemake planned: its ``gpu`` resource) and
    return its report's status (``succeeded`` or ``failed``)."""
    # The run directory is created here: it must be a model's own.
    child_path(os.path.dirname(os.fspath(report_path)))
    report_path = Path(report_path).resolve()
    log_path = Path(log_path).resolve()
    model_dir = report_path.parent
    model = run_config["model"]
    model_dir.mkdir(parents=True, exist_ok=True)
    history.clear_published(model_dir)  # files of an earlier attempt: kept in its history
    attempt = history.new_attempt(model_dir)
    attempt_report = attempt / REPORT_NAME
    config_path = attempt / RUN_CONFIG_NAME
    isolation = Isolation.from_run_config(run_config)  # checked when the workflow was parsed
    image = Path(image_id_file).read_text().strip() if image_id_file else isolation.image
    launched = Launch(
        runtime=isolation.runtime, image=image, code_version=code_version()
    )  # of the checkout this code lies in
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    error = None
    try:
        with stop_when_workflow_ends(model), allocate_gpus(gpus) as devices:
            launched = replace(launched, gpus=devices)
            spec = LaunchSpec(
                model_key=model,
                runtime=isolation.runtime,
                benchmark_args=[
                    "run",
                    "--config",
                    str(config_path),
                    "--output",
                    str(attempt_report),
                    "--workdir",
                    str(Path.cwd()),
                ],
                log_path=log_path,
                run_dir=attempt,
                image=image,
                read_only_mounts=local_mounts(run_config),
                gpus=devices,
                cpus=isolation.cpus,
                memory=isolation.memory,
                timeout_s=isolation.timeout_s,
                secret_names=needed_secrets(run_config),
                withheld_secrets=withheld_secrets(run_config, os.environ),
                hub_cache=hub_cache_access(run_config, os.environ),
            )
            prepared = prepare(spec)
            launched = replace(
                launched,
                runtime=prepared.runtime,
                image=prepared.image,
                image_id=prepared.image_id,
                container=prepared.container_name,
            )
            # The run writes how it was launched into its report, once.
            write_json_atomic(config_path, {**run_config, "launch": launched.to_dict()})
            run_prepared(prepared)
    except (LaunchError, GpuAllocationError) as exc:
        error = exc
    except OSError as exc:  # writing run_config.json
        if not out_of_space(exc):
            raise
        _interrupted(model, attempt, exc)
    if isinstance(error, LaunchError) and error.cause == CAUSE_INTERRUPTED:
        _interrupted(model, attempt, error)
    try:
        if attempt_report.exists():
            report = Report.read(attempt_report)
        else:
            cause = error or f"model {model}: the run wrote no report"
            report = Report.failed(model, run_config, cause, provenance.collect(None, launched))
            write_report(attempt_report, report.to_dict())
        shutil.copyfile(log_path, attempt / LOG_NAME)
        history.publish(attempt, model_dir)
    except OSError as exc:
        if out_of_space(exc):
            _interrupted(model, attempt, exc)
        raise
    if not report.succeeded:
        print(
            f"energybench: model {model} FAILED: {report.error.message}; log {log_path}, "
            f"report {report_path}",
            file=sys.stderr,
        )
    return report.status


class JobInterrupted(SystemExit):
    """The job was stopped from outside (a signal, its workflow's end, a full disk): it exits
    non-zero without a report, so Snakemake treats its output as incomplete and the next run
    redoes it, instead of keeping a `failed` report that is no fault of the model."""


def _interrupted(model: str, attempt: Path, cause: BaseException) -> None:
    history.discard(attempt)  # whatever the run wrote is no result
    print(
        f"energybench: model {model} INTERRUPTED: {cause}; no report is kept, and the next "
        "run of the workflow redoes it",
        file=sys.stderr,
    )
    raise JobInterrupted(getattr(cause, "exit_code", None) or EXIT_INTERRUPTED)
