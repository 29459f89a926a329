# Config loading, validation and input functions. The logic lives in energybench.plan.config;
# this file only connects it to Snakemake.
import glob
import inspect
import json
import os
import sys
from pathlib import Path

from snakemake.common import overwrite_function_params
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from energybench.run.errors import ConfigError
from energybench.run.schema import check_document
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import (
    coerce_command_line_values,
    planned_settings,
    settings_text,
    check_models_document,
    load_yaml,
    resolve_model,
    resolve_runtimes,
    select_models,
)
from energybench.run.settings import local_inputs
from energybench.job import environment
from energybench.run.prompts import check_prompt_counts
from energybench.job.secrets import declared_secrets_environment
from energybench.plan.consistency import hub_id_notes
from energybench.plan.aes_model_list import models_from_list
from energybench.plan.campaign_settings import apply_campaign_settings
from energybench.aes.preset import aes_job_gpus
from energybench.plan.campaign_record import (
    described,
    record_campaign,
    record_path,
    recorded_campaign,
)
from energybench.plan.code_digest import code_digest
from energybench.plan.planned import settings_path, write_planned_settings
from energybench.run.backend_registry import job_resources, planned_on_the_cpu_for_want_of_gpus
from energybench.run.gpu_pool import discover_devices
from energybench.job.gpus import gpu_capacity_problems
from energybench.cli import rule_command
from energybench.job.keys import KEY_REGEX, key_problem
from energybench.job import workflow_guard
from energybench.job.isolation import CONTAINER_RUNTIMES, resolve_runtime

# The seed runner's variables: RESULTS_DIR moves every output; BENCHMARK_BACKEND is the
# backend of models that name none.
RESULTS = environment.results_dir()
workflow_guard.mark_workflow_process()  # jobs stop their runs when this process ends; HUP = INT
CONFIG_SCHEMA = "../config/schemas/config.schema.yaml"
MODELS_SCHEMA = "../config/schemas/models.schema.yaml"


wildcard_constraints:
    model=KEY_REGEX,


def config_error(message):
    """Stop before any job runs with a one-paragraph message and no traceback."""
    print(f"energybench configuration error: {message}", file=sys.stderr)
    sys.exit(1)


if workflow_guard.results_dir_problem(RESULTS):
    config_error(workflow_guard.results_dir_problem(RESULTS))


onstart:
    # Not on dry runs, --lint or --summary: a plan measures and writes nothing.
    try:
        workflow_guard.lock_results_dir(RESULTS, os.getcwd())
    except workflow_guard.ResultsDirBusy as exc:
        print(f"energybench: {exc}", file=sys.stderr)
        sys.exit(1)
    if not PAPER_ONLY:
        # Imported here: it reads reports (numpy and all), which no plan needs.
        from energybench.job.history import keep_stored_reports

        # Reports stored before attempts were kept: into their history first, so the rerun
        # Snakemake may start (which removes its output) cannot destroy them.
        for attempt in keep_stored_reports(f"{RESULTS}/runs"):
            print(f"energybench: kept the stored report in {attempt}", file=sys.stderr)
        write_planned_settings(RESULTS, SETTINGS)
        record_campaign(RESULTS, config)


def schema_path(relative):
    return Path(workflow.basedir, "rules", relative).resolve()


def stated_settings():
    """The top-level settings this command states: on the command line (--config), in a
    --configfile, or in config/config.yaml."""
    return set(workflow.config_settings.overwrite_config) | set(
        load_yaml("config/config.yaml") or {}
    )


def load_model_table():
    """Validate config.yaml and models.yaml; return ({model key: planned settings},
    {model key: its benchmark job's resources})."""
    try:
        recorded = recorded_campaign(RESULTS, stated_settings())
        if recorded:
            config.update(recorded)
            print(
                f"energybench: the campaign's settings recorded in "
                f"{record_path(RESULTS)}: {described(recorded)} (state any of them, e.g. "
                "with --config, to set the campaign anew)",
                file=sys.stderr,
            )
        config_schema = load_yaml(schema_path(CONFIG_SCHEMA))
        config.update(coerce_command_line_values(config, config_schema))
        if environment.default_backend():
            config["defaults"]["backend"] = environment.default_backend()
        check_document(config, config_schema, "config/config.yaml (with --config)")
        validate(config, CONFIG_SCHEMA)  # also fills the schema's defaults
        if config.get("models_csv"):
            config["models_file"] = config["models_csv"]  # errors name the list
            models_doc = models_from_list(
                config["models_csv"],
                config["models_csv_skip_invalid"],
                config["aes_reasoning"],
            )
        else:
            models_doc = load_yaml(config["models_file"])
        # Checked once, against the same schema Snakemake's validate would use (which would
        # only check it again: the model list has no defaults to fill).
        check_models_document(
            models_doc, load_yaml(schema_path(MODELS_SCHEMA)), config["models_file"]
        )
        gpus, known = machine_gpus()
        table = {
            key: apply_campaign_settings(
                resolve_model(key, entry, config["defaults"], config["measurement"]),
                config,
            )
            for key, entry in models_doc["models"].items()
        }
        # Every model's secrets by name: each job withholds the others' from its run.
        os.environ.update(declared_secrets_environment(table.values()))
        selected = select_models(table, config["select"])
        # `auto` is resolved once, here: the DAG knows which models need an image, and each
        # job runs in the runtime planned for it.
        chosen = resolve_runtimes(
            {key: table[key] for key in selected}, resolve_runtime
        )
        check_run_configs(chosen, config["models_file"], gpus > 0)
        say_gpuless_plan(planned_on_the_cpu_for_want_of_gpus(chosen) if not known else [])
        check_prompt_counts(chosen)
        for note in hub_id_notes(chosen):
            print(f"energybench: note: {note}", file=sys.stderr)
        # Each benchmark job's resources, its GPUs planned once for the check and the rule.
        resources = {key: job_resources(cfg, gpus > 0) for key, cfg in chosen.items()}
        for key, cfg in chosen.items():
            # AES's preset without node_gpus: every GPU of the machine that runs the job.
            resources[key]["gpu"] = aes_job_gpus(cfg, gpus) or resources[key]["gpu"]
        problems = gpu_capacity_problems(
            {key: taken["gpu"] for key, taken in resources.items()},
            gpus if known else None,
            resource_limit("gpu"),
        )
        if problems:
            raise ConfigError("; ".join(problems))
        return {key: planned_settings(cfg) for key, cfg in chosen.items()}, resources
    except ConfigError as exc:
        config_error(exc)


def machine_gpus():
    """(GPUs of the machine that runs the benchmark jobs, whether that count is known):
    node_gpus, or what this machine sees. A machine that sees none may be a cluster's submit
    host, so zero seen is no limit to check against."""
    if config.get("node_gpus", "auto") != "auto":
        return config["node_gpus"], True
    seen = len(discover_devices().devices)
    return seen, seen > 0


def say_gpuless_plan(models):
    """One notice for the models that would take GPUs, had this machine any."""
    if models:
        print(f"energybench: this machine sees no GPU, so {len(models)} model(s) with "
              f"gpus: auto are planned on the CPU ({', '.join(models[:3])}"
              f"{', ...' if len(models) > 3 else ''}); on a cluster whose nodes have GPUs, "
              "set node_gpus (docs/cluster.md); to run them on the CPU, set device: cpu",
              file=sys.stderr)


def resource_limit(name):
    """The --resources limit on ``name``, or None where none was given."""
    limit = workflow.global_resources.get(name)
    return getattr(limit, "value", limit)


# The models' settings, and the resources of their benchmark jobs (GPUs: `gpus: auto` planned
# for the machine that runs the jobs).
MODELS, RESOURCES = load_model_table()
# Paper mode: the paper outputs from the reports already under results/runs/, and no benchmark
# (the Snakefile includes no benchmark rule). A setting, not the target's name read from the
# command line, so it holds for every way of starting Snakemake (its Python API too).
PAPER_ONLY = config["paper"]
# Each model's settings as its benchmark job's param: canonical text, so restating a value
# reruns nothing (energybench.run.settings.canonical); the job reads them from a file named by
# their digest, written when a run starts (energybench.plan.planned).
SETTINGS = {key: settings_text(cfg) for key, cfg in MODELS.items()}
SETTINGS_FILES = {key: str(settings_path(RESULTS, key, text)) for key, text in SETTINGS.items()}


def selected_model(wildcards):
    if wildcards.model not in MODELS:
        config_error(
            f"no model {wildcards.model!r} is selected in {config['models_file']} "
            f"(selected: {', '.join(MODELS)})"
        )
    return wildcards.model


def per_model(values, deriving=False):
    """A per-model item of a rule, as Snakemake takes it; that is, a function that looks the
    job's model up in ``values``, worked out once when the workflow is parsed. Its signature
    is handed to Snakemake once, as Snakemake's own ioutils do: otherwise Snakemake inspects
    it each time it calls it, twice per job. ``deriving``: the param is derived from the
    job's input, and Snakemake's params rerun trigger leaves it out."""
    if deriving:

        def look_up(wildcards, input):
            return values[selected_model(wildcards)]

    else:

        def look_up(wildcards):
            return values[selected_model(wildcards)]

    overwrite_function_params(look_up, inspect.signature(look_up).parameters)
    return look_up


def same_or_per_model(values):
    """A resource or param the same for every model as that one static value (Snakemake
    calls no function for it), else ``per_model``. Only for values without braces: a static
    param is formatted with the job's wildcards."""
    distinct = set(values.values())
    return distinct.pop() if len(distinct) == 1 else per_model(values)


# --- runtimes and images ----------------------------------------------------------------


def workflow_path(*parts):
    """A path in this checkout, relative to the working directory: moving the checkout
    must not look like a change of inputs."""
    return os.path.relpath(Path(workflow.basedir, *parts))


# How per-model steps start the `energybench` command (energybench.cli.rule_command):
# `{params.energybench} tiny-model ...` prints as `.venv/bin/python src/energybench tiny-model ...`.
ENERGYBENCH = rule_command(
    workflow_path("src", "energybench"),
    in_conda_env=DeploymentMethod.CONDA
    in workflow.deployment_settings.deployment_method,
)


def energybench_command(wildcards, input):
    """The `energybench` command as a param (`energybench=energybench_command`). It takes the
    job's input, so Snakemake's params rerun trigger leaves it out: moving the checkout or
    changing the interpreter reruns nothing, and the shell text names no global."""
    return ENERGYBENCH


overwrite_function_params(energybench_command, inspect.signature(energybench_command).parameters)

# The benchmark's code as one digest (energybench.plan.code_digest): a param of each run in a
# process and of the CPU image, so a code change reruns the runs and nothing else does.
CODE_DIGEST = code_digest(workflow_path("src", "energybench"))


def site_sources():
    """The site's code, templates and assets, and the paper's reader, palette, ranking and
    rating groups it shares: a change to them rebuilds the site only."""
    shared = [
        workflow_path("src", "energybench", "publish", "paper", name)
        for name in ("stored.py", "palette.py", "ranking.py", "ratings.py", "hardware.py",
                     "links.py")
    ]
    return shared + sorted(
        str(path)
        for path in Path(workflow_path("src", "energybench", "publish", "site")).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def image_sources():
    fixed = [
        "containers/Dockerfile.cpu",
        "containers/engine-requirements.sh",
        "requirements/ci.txt",
        "pyproject.toml",
    ]
    return [workflow_path(name) for name in fixed]


def image_id_file(cfg):
    """The id file of the pipeline-built CPU image, for container runs naming no image
    (neither in their settings nor, as in the seed, in DOCKER_IMAGE)."""
    runtime = cfg["runtime"]
    if (
        runtime in CONTAINER_RUNTIMES
        and not cfg.get("image")
        and not environment.docker_image()
    ):
        return f"{RESULTS}/images/{runtime}-cpu.id"
    return None


# --- each selected model's job items, worked out once (rules/models.smk, benchmark.smk) ---

# Files a model's run reads: its local (or locally built) weights, its prompt file and the id
# of the image it runs in.
BENCHMARK_INPUTS = {
    key: {
        **local_inputs(cfg),
        **({"image_id": image_id_file(cfg)} if image_id_file(cfg) else {}),
    }
    for key, cfg in MODELS.items()
}
IMAGE_ID_FILES = {key: inputs.get("image_id", "") for key, inputs in BENCHMARK_INPUTS.items()}
# The code a run executes, as a param: the package's digest for a run in a process; none for
# a container run, which runs its image's code (a built image's id is its input, and the
# image's rule has the digest as its param).
BENCHMARK_CODE = {
    key: CODE_DIGEST if cfg["runtime"] == "process" else "" for key, cfg in MODELS.items()
}
TINY_SPECS = {key: json.dumps(cfg["tiny"]) for key, cfg in MODELS.items() if "tiny" in cfg}


# --- paper outputs (rules/aggregate.smk) ------------------------------------------------
def stored_reports():
    """{model: its report file} for the models with a report under results/runs/ (paper mode:
    a copied results/runs is enough): the published report or, where none is published but
    attempts are kept (a rerun was interrupted after unpublishing it), the kept attempt's
    shown in its place (energybench.job.history.unpublished_attempt), so that no model drops
    out of the tables unsaid; a folder whose name is no model key is named and left out."""
    published = glob.glob(f"{RESULTS}/runs/*/benchmark_report.json")
    reports = {Path(path).parent.name: path for path in published}
    unpublished = [
        Path(path).parent
        for path in glob.glob(f"{RESULTS}/runs/*/history")
        if Path(path).parent.name not in reports
    ]
    if unpublished:
        # Imported here: it reads reports (numpy and all), which no plan needs.
        from energybench.job.history import unpublished_attempt

        for model_dir in unpublished:
            kept = unpublished_attempt(model_dir)
            if kept:
                print(
                    f"energybench: {model_dir} has no published report: the paper outputs "
                    f"show its kept attempt history/{kept[0].name}",
                    file=sys.stderr,
                )
                reports[model_dir.name] = str(kept[0] / "benchmark_report.json")
    stored = {}
    for model, path in sorted(reports.items()):
        problem = key_problem(model)
        if problem:
            print(f"energybench: skipping {path}: {problem}", file=sys.stderr)
        else:
            stored[model] = path
    return stored


STORED = stored_reports() if PAPER_ONLY else {}
REPORTED = list(STORED) if PAPER_ONLY else list(MODELS)
REPORT = f"{RESULTS}/runs/{{model}}/benchmark_report.json"


def report_paths():
    """The reports the tables are made of: the selected models' (made by the benchmark rule),
    or in paper mode those stored."""
    return list(STORED.values()) if PAPER_ONLY else expand(REPORT, model=REPORTED)


def paper_target_inputs(wildcards):
    """What the `paper` target makes, in paper mode only: otherwise its inputs would be the
    selected models' reports, and asking for the paper would start their benchmarks."""
    if not PAPER_ONLY:
        config_error(
            "`snakemake paper` remakes the paper outputs from the stored reports in paper "
            "mode only, which never runs a benchmark: run `snakemake --cores 1 paper --config "
            "paper=true` (or `make paper`); the default target benchmarks the selected models "
            "first"
        )
    # PAPER_OUTPUTS (rules/aggregate.smk), and the leaderboard site (rules/site.smk).
    return [*PAPER_OUTPUTS, f"{RESULTS}/site"]


PAPER = workflow_path("src/energybench/publish/paper")
CALIBRATION = (config.get("ratings") or {}).get("calibration_file")
FIGURES = {
    "energy": "energy_per_1000_queries",
    "pareto": "energy_per_token_vs_throughput",
    "phases": "prefill_decode",
    "latency": "latency_percentiles",
}


def paper_code(*modules):
    """The modules an output is drawn by, and the reader and style every output shares."""
    return [
        f"{PAPER}/{m}.py" for m in ("stored", "palette", "style", "build", *modules)
    ] + [workflow_path("src/energybench/job/history.py")]


def paper_code_digest(*modules):
    """One digest of the code that draws a per-model paper output (paper_code): a param of
    the job drawing them all, which redraws a model's file when its digest changes."""
    return code_digest(workflow_path("src", "energybench"), paper_code(*modules))


def step_code_digest(sources):
    """One digest of ``sources`` and of the command that calls them (energybench/cli.py):
    the code param of a rule with a job per model, so 1,000 models
    add no edge per source to the DAG (planning time, docs/PERFORMANCE.md) and a plan writes
    nothing."""
    package = workflow_path("src", "energybench")
    return code_digest(package, [*sources, f"{package}/cli.py"])


def per_model_report(path, model, figure, caption):
    """``path`` (a pattern of {model}) for ``model``, in the HTML report's per-model pages."""
    return report(
        path.format(model=model),
        caption=caption,
        category="Per model",
        subcategory=model,
        labels={"model": model, "figure": figure},
    )
