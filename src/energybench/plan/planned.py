"""The settings each benchmark job was planned with, handed to the job in a file of its own.

A job must run exactly the settings Snakemake compared when it decided to (re)run it, whatever
another invocation does meanwhile (a dry run with other ``--config``, an edit of models.yaml).
So the benchmark rule's param is the model's settings in canonical text
(energybench.plan.config.settings_text), and the job reads them from a file named by their
digest, ``results/settings/<model>/<digest>.json`` (energybench.job.planned_settings): a file is
never rewritten with other settings, so the job finds what was planned or, if the file is
missing, stops with a clear message. The files are written when a run starts (the workflow's
``onstart``), never by a plan: a dry run, ``--lint`` or ``--summary`` writes nothing.
Settings hold no secret (a secret is named by its environment variable, never given), and
stay off the job's command line, which Snakemake prints and ``ps`` shows.
"""

from __future__ import annotations

from pathlib import Path

from energybench.job.planned_settings import settings_digest
from energybench.run.files import write_if_changed

SETTINGS_DIR = "settings"


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
