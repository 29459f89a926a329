"""The settings each benchmark job was planned with, handed to the job in a file of its own.

A job must run exactly the settings Snakemake compared when it decided to (re)run it, whatever
another invocation does meanwhile (a dry run with other ``--config``, an edit of models.yaml).
So the benchmark rule's param is the model's settings in canonical text
(energybench.plan.config.settings_text), and the job reads them from a file named by their digest,
``results/settings/<model>/<digest>.json``: a file is never rewritten with other settings, so
the job finds what was planned or, if the file is missing, stops with a clear message. The
files are written when a run starts (the workflow's ``onstart``), never by a plan: a dry run,
``--lint`` or ``--summary`` writes nothing. Settings hold no secret (a secret is named by its
environment variable, never given), and stay off the job's command line, which Snakemake
prints and ``ps`` shows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from energybench.run.files import write_if_changed

SETTINGS_DIR = "settings"


class SettingsMissing(RuntimeError):
    """The planned settings file of a job is not where the plan put it."""


def settings_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def settings_path(results_dir: str | Path, model: str, text: str) -> Path:
    return Path(results_dir, SETTINGS_DIR, model, f"{settings_digest(text)}.json")


def write_planned_settings(results_dir: str | Path, planned: dict[str, str]) -> list[Path]:
    """Write each model's settings file (``planned``: model -> settings text) and remove that
    model's files of earlier plans, which no job of this run reads."""
    written = []
    for model, text in planned.items():
        path = write_if_changed(settings_path(results_dir, model, text), text + "\n")
        for older in path.parent.glob("*.json"):
            if older != path:
                older.unlink(missing_ok=True)
        written.append(path)
    return written


def read_planned_settings(path: str | Path) -> dict:
    """The settings a job was planned with, checked against the digest in the file's name."""
    path = Path(path)
    try:
        text = path.read_text().rstrip("\n")
    except FileNotFoundError:
        raise SettingsMissing(
            f"the planned settings file {path} is missing: it is written when a run of the "
            "workflow starts (not by a dry run); run snakemake again (without -n)") from None
    if settings_digest(text) != path.stem:
        raise SettingsMissing(f"{path} does not hold the settings its name stands for; "
                              "remove it and run snakemake again")
    return json.loads(text)
