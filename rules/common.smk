# Config loading, validation and input functions. The logic lives in energybench.config;
# this file only connects it to Snakemake.
import json
import subprocess
import sys
from pathlib import Path

from snakemake.utils import validate

from energybench.config import (
    ConfigError,
    check_document,
    check_local_inputs,
    local_inputs,
    check_models_document,
    load_yaml,
    resolve_model,
    select_models,
)

CONFIG_SCHEMA = "../config/schemas/config.schema.yaml"
MODELS_SCHEMA = "../config/schemas/models.schema.yaml"


wildcard_constraints:
    model=r"[A-Za-z0-9._-]+",


def config_error(message):
    """Stop before any job runs with a one-paragraph message and no traceback."""
    print(f"energybench configuration error: {message}", file=sys.stderr)
    sys.exit(1)


def schema_path(relative):
    return Path(workflow.basedir, "rules", relative).resolve()


def load_model_table():
    """Validate config.yaml and models.yaml; return {model key: resolved run config}."""
    try:
        check_document(config, load_yaml(schema_path(CONFIG_SCHEMA)), "config")
        validate(config, CONFIG_SCHEMA)  # also fills the schema's defaults
        models_doc = load_yaml(config["models_file"])
        check_models_document(models_doc, load_yaml(schema_path(MODELS_SCHEMA)),
                              config["models_file"])
        validate(models_doc, MODELS_SCHEMA)
        table = {
            key: resolve_model(key, entry, config["defaults"], config["measurement"])
            for key, entry in models_doc["models"].items()
        }
        selected = select_models(table, config.get("select") or {})
        check_local_inputs({key: table[key] for key in selected})
    except ConfigError as exc:
        config_error(exc)
    return {key: table[key] for key in selected}


MODELS = load_model_table()


def code_version():
    """The pipeline's git commit, recorded in every report's provenance."""
    try:
        return subprocess.run(
            ["git", "-C", workflow.basedir, "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def model_config(wildcards):
    if wildcards.model not in MODELS:
        raise ValueError(f"unknown or unselected model {wildcards.model!r}")
    return MODELS[wildcards.model]


def benchmark_inputs(wildcards):
    """Files a model's run reads: its local (or locally built) weights and prompt file."""
    return local_inputs(model_config(wildcards))


def report_paths():
    return expand("results/runs/{model}/benchmark_report.json", model=MODELS)
