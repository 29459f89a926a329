"""A campaign's settings, given once and kept with its results.

A campaign is defined by a few top-level settings (the model list, the preset, the selection,
the settings AI Energy Score's runner takes as flags). A run of the workflow records them in
``results/campaign.json`` when it starts (the workflow's ``onstart``; a plan writes nothing),
and a later command that states none of them (``snakemake aes_submission``, ``snakemake
paper``, a plain rerun) plans with the recorded ones instead of config.yaml's defaults, so it
plans no benchmark the campaign did not run. A command that states any of them, on the command
line or in a config file, defines the campaign anew.
"""

from __future__ import annotations

import json
from pathlib import Path

from energybench.run.errors import ConfigError
from energybench.run.files import json_text, write_if_changed

CAMPAIGN_KEYS = (
    "models_file",
    "models_csv",
    "models_csv_skip_invalid",
    "aes_reasoning",
    "preset",
    "select",
    "num_prompts",
    "prompts_file",
    "endpoint",
)
RECORD_NAME = "campaign.json"


def record_path(results_dir: str | Path) -> Path:
    return Path(results_dir, RECORD_NAME)


def campaign_settings(config: dict) -> dict:
    """The campaign's settings of a (validated) workflow config."""
    return {key: config[key] for key in CAMPAIGN_KEYS if key in config}


def recorded_campaign(results_dir: str | Path, stated: set[str]) -> dict | None:
    """The recorded campaign settings, where there is a record and none of its settings is
    ``stated`` (given on the command line or in a config file); else None."""
    path = record_path(results_dir)
    if stated & set(CAMPAIGN_KEYS) or not path.exists():
        return None
    try:
        recorded = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the campaign's settings ({exc}); remove the "
            "file, or state the campaign's settings with --config"
        ) from None
    if not isinstance(recorded, dict) or set(recorded) - set(CAMPAIGN_KEYS):
        raise ConfigError(
            f"{path} is not a record of campaign settings (known: "
            f"{', '.join(CAMPAIGN_KEYS)}); remove it, or state the settings "
            "with --config"
        )
    return recorded


def described(recorded: dict) -> str:
    """The recorded settings in one line; an endpoint is named, never shown (a URL may hold a
    credential)."""
    return ", ".join(
        f"{key}=<recorded>"
        if key == "endpoint" and value is not None
        else f"{key}={json.dumps(value)}"
        for key, value in recorded.items()
    )


def record_campaign(results_dir: str | Path, config: dict) -> Path:
    """Keep the campaign's settings with its results (rewritten only when they change)."""
    return write_if_changed(record_path(results_dir), json_text(campaign_settings(config)))
