"""The job's side of the planned settings (energybench.plan.planned writes them): a settings
file named by the digest of its text, read back and checked against that name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


class SettingsMissing(RuntimeError):
    """The planned settings file of a job is not where the plan put it."""


def settings_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def read_planned_settings(path: str | Path) -> dict:
    """The settings a job was planned with, checked against the digest in the file's name."""
    path = Path(path)
    try:
        text = path.read_text().rstrip("\n")
    except FileNotFoundError:
        raise SettingsMissing(
            f"the planned settings file {path} is missing: it is written when a run of the "
            "workflow starts (not by a dry run); run snakemake again (without -n)"
        ) from None
    if settings_digest(text) != path.stem:
        raise SettingsMissing(
            f"{path} does not hold the settings its name stands for; "
            "remove it and run snakemake again"
        )
    return json.loads(text)
