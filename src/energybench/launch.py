"""Launch one model's run in isolation and make sure a report exists afterwards.

This is what the Snakemake `benchmark` rule calls. The run itself happens in a child process
(``python -m energybench run``); whatever happens to it, the model ends with a report: the
run's own, or a failed one written here with the exit status and the log's tail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from pathlib import Path

from energybench import provenance
from energybench.engine import RUNTIME_ENV
from energybench.report import failed_report, read_report, write_json_atomic, write_report

RUN_CONFIG_NAME = "run_config.json"
LOG_TAIL_LINES = 20


def _log_tail(log_path: Path) -> str:
    with open(log_path, errors="replace") as handle:
        return "".join(deque(handle, maxlen=LOG_TAIL_LINES)).strip()


def run_model_job(run_config: dict, report_path: str, log_path: str,
                  workflow_dir: str | None = None) -> str:
    """Run one model and return its report's status (``succeeded`` or ``failed``)."""
    report_path = Path(report_path).resolve()
    log_path = Path(log_path).resolve()
    run_dir = report_path.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    config_path = write_json_atomic(run_dir / RUN_CONFIG_NAME, run_config)
    model = run_config["model"]

    env = dict(os.environ)
    env[RUNTIME_ENV] = "process"
    env[provenance.CODE_VERSION_ENV] = provenance.code_version(
        Path(workflow_dir) if workflow_dir else None) or "unknown"
    command = [sys.executable, "-m", "energybench", "run",
               "--config", str(config_path), "--output", str(report_path)]
    with open(log_path, "w", buffering=1) as log:
        log.write(f"energybench: model {model}: running {' '.join(command)}\n")
        returncode = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL).returncode
        log.write(f"energybench: model {model}: run exited with code {returncode}\n")

    if report_path.exists():
        status = read_report(report_path)["status"]
    else:
        message = (f"the run of model {model} exited with code {returncode} without writing a "
                   f"report; last lines of {log_path}:\n{_log_tail(log_path)}")
        write_report(report_path, failed_report(model, run_config, message, provenance.collect(
            None, {"name": "process", "image_id": None})))
        status = "failed"
    if status == "failed":
        print(f"energybench: model {model} FAILED; see {log_path} and {report_path}",
              file=sys.stderr)
    return status
