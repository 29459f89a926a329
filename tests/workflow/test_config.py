import dataclasses
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO_ROOT
from energybench.run.errors import ConfigError
from energybench.run.settings import Isolation, RunConfig, apply_overrides
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import (
    check_models_document,
    load_yaml,
    resolve_model,
    resolve_runtimes,
    select_models,
)

MODELS_SCHEMA = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")
DEFAULTS = load_yaml(REPO_ROOT / "config/config.yaml")["defaults"]
MEASUREMENT = {
    "idle_seconds": 0,
    "sample_hz": 10,
    "carbon_intensity_g_per_kwh": 400,
    "cooldown_timeout_s": 60,
}


def run_config(key="m1", **entry):
    return resolve_model(key, {"id": "org/model", **entry}, DEFAULTS, MEASUREMENT)


def test_shipped_models_file_is_valid():
    check_models_document(
        load_yaml(REPO_ROOT / "config/models.yaml"), MODELS_SCHEMA, "config/models.yaml"
    )


def test_duplicate_model_key_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  a:\n    id: x/y\n  a:\n    id: x/z\n")
    with pytest.raises(
        ConfigError, match=r"duplicate key 'a' at line 4 \(first defined at line 2\)"
    ):
        load_yaml(path)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_yaml_is_parsed_by_libyaml_where_pyyaml_has_it(tmp_path):
    """Pure-Python parsing of a 1,000-model models.yaml was 0.3 s of every plan
    (docs/PERFORMANCE.md); the duplicate-key check must survive the faster parser."""
    from energybench.plan.config import _UniqueKeyLoader

    assert issubclass(_UniqueKeyLoader, yaml.CSafeLoader)
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  a: {id: x/y}\n  b: {id: x/z}\n")
    assert load_yaml(path) == {"models": {"a": {"id": "x/y"}, "b": {"id": "x/z"}}}


def test_each_referenced_schema_is_read_once_not_once_per_model(monkeypatch):
    """Every entry of models.yaml `$ref`s the model settings' schema; reading it again for each
    one was a measurable part of every plan at 1,000 models (docs/PERFORMANCE.md section 2)."""
    import energybench.run.schema as schema

    reads = []
    read = schema.package_schema
    monkeypatch.setattr(schema, "package_schema", lambda name: reads.append(name) or read(name))
    doc = {"models": {f"m{i}": {"id": "a/b", "batch_size": 2} for i in range(50)}}
    check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    assert len(reads) <= 1, f"{len(reads)} reads: {reads[:2]}"  # none when read before


def test_unknown_field_names_model_and_field():
    doc = {"models": {"good": {"id": "a/b"}, "bad": {"id": "a/b", "batch_sise": 4}}}
    with pytest.raises(ConfigError) as error:
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    assert "model 'bad'" in str(error.value) and "batch_sise" in str(error.value)
    assert "good" not in str(error.value)


def test_bad_value_names_model_and_field():
    doc = {"models": {"m": {"id": "a/b", "batch_size": 0}}}
    with pytest.raises(ConfigError, match=r"model 'm', field 'batch_size': 0 is less than"):
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")


@pytest.mark.parametrize("value", [0, -5])
def test_a_timeout_must_be_positive_naming_model_and_field(value):
    doc = {"models": {"m": {"id": "a/b", "timeout_s": value}}}
    with pytest.raises(
        ConfigError, match=r"model 'm', field 'timeout_s': .* less than or equal to"
    ):
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")


def test_a_timeout_reaches_the_run_config():
    assert RunConfig.from_dict(run_config(timeout_s=90)).isolation.timeout_s == 90
    assert RunConfig.from_dict(run_config()).isolation.timeout_s is None


def test_entry_needs_an_id_or_a_tiny_spec():
    with pytest.raises(ConfigError, match="model 'm'"):
        check_models_document({"models": {"m": {"class": "A"}}}, MODELS_SCHEMA, "models.yaml")


def test_resolution_merges_defaults_and_places_tiny_models():
    cfg = resolve_model(
        "t",
        {"tiny": {"hidden_size": 128}, "reasoning_params": {"enable_thinking": True}},
        {**DEFAULTS, "reasoning_params": {"reasoning_effort": "low"}},
        MEASUREMENT,
    )
    assert cfg["id"] == "resources/models/t"
    assert cfg["reasoning_params"] == {"reasoning_effort": "low", "enable_thinking": True}
    assert cfg["batch_size"] == DEFAULTS["batch_size"]


def test_selection_filters_by_class_and_glob():
    table = {
        key: run_config(key, **{"class": key[0].upper()}) for key in ("a-small", "b-big", "b-huge")
    }
    assert select_models(table, {"class": "B"}) == ["b-big", "b-huge"]
    assert select_models(table, {"model": "*-big"}) == ["b-big"]
    assert select_models(table, {"class": ["A", "B"], "reasoning": False}) == list(table)
    with pytest.raises(ConfigError, match="matches none"):
        select_models(table, {"class": "C"})


def test_missing_local_model_and_dataset_fail_before_running(tmp_path):
    table = {
        "m": run_config(id=str(tmp_path / "nope"), dataset=str(tmp_path / "p.jsonl")),
        "t": resolve_model("t", {"tiny": {}}, DEFAULTS, MEASUREMENT),
    }
    with pytest.raises(ConfigError) as error:
        check_run_configs(table)
    message = str(error.value)
    assert "model 'm': model directory" in message and "dataset file" in message
    assert "'t'" not in message  # tiny models are built by the workflow


def test_overrides_follow_the_seed_runner():
    cfg = apply_overrides(
        run_config(),
        [
            "backend.model=org/other",
            "scenario.num_samples=20",
            "scenario.reasoning=true",
            "scenario.reasoning_params.reasoning_effort=high",
            "scenario.generate_kwargs.max_new_tokens=64",
            "scenario.dataset_name=data/x.csv",
            "batch_size=2",
        ],
    )
    run = RunConfig.from_dict(cfg)
    assert (
        run.id,
        run.num_prompts,
        run.reasoning,
        run.max_new_tokens,
        run.dataset,
        run.batch_size,
    ) == ("org/other", 20, True, 64, "data/x.csv", 2)
    assert run.reasoning_params == {"reasoning_effort": "high"}
    assert run.effective_min_new_tokens == 0  # reasoning: the model decides when to stop


def test_unknown_override_lists_known_keys():
    with pytest.raises(ConfigError, match=r"unknown override key 'scenario.bogus'.*backend.model"):
        apply_overrides(run_config(), ["scenario.bogus=1"])
    with pytest.raises(ConfigError, match="not of the form key=value"):
        apply_overrides(run_config(), ["scenario.num_samples"])


def test_override_with_wrong_type_is_rejected():
    with pytest.raises(ConfigError, match="num_prompts"):
        RunConfig.validated(apply_overrides(run_config(), ["scenario.num_samples=many"]))


def test_the_workflow_validates_a_run_config_once_and_the_run_only_parses_it():
    """Settings are checked with the file they come from, when the workflow is parsed; a run
    config by hand (or changed by overrides) is checked by the run instead."""
    out_of_range = run_config(batch_size=0)
    assert RunConfig.from_dict(out_of_range).batch_size == 0  # parsed, not checked again
    with pytest.raises(ConfigError, match="run config is invalid: batch_size"):
        RunConfig.validated(out_of_range)
    with pytest.raises(ConfigError, match="lacks required fields: dataset"):
        RunConfig.from_dict({k: v for k, v in run_config().items() if k != "dataset"})


def test_a_run_config_by_hand_has_its_measurement_checked_by_the_same_schema():
    with pytest.raises(
        ConfigError,
        match=r"run config field 'measurement' is invalid: "
        r"sample_hz: 'fast' is not of type 'number'",
    ):
        RunConfig.validated({**run_config(), "measurement": {**MEASUREMENT, "sample_hz": "fast"}})
    with pytest.raises(ConfigError, match="lacks required fields: measurement"):
        RunConfig.validated({k: v for k, v in run_config().items() if k != "measurement"})


def test_runtimes_are_resolved_once_for_all_models():
    asked = []

    def resolve(name):
        asked.append(name)
        return "docker" if name == "auto" else name

    configs = {
        "a": run_config("a", runtime="auto"),
        "b": run_config("b", runtime="auto"),
        "c": run_config("c", runtime="process"),
    }
    resolved = resolve_runtimes(configs, resolve)
    assert sorted(asked) == ["auto", "process"]
    assert {key: cfg["runtime"] for key, cfg in resolved.items()} == {
        "a": "docker",
        "b": "docker",
        "c": "process",
    }


def test_fixed_output_length_unless_reasoning():
    assert RunConfig.from_dict(run_config(max_new_tokens=12)).effective_min_new_tokens == 12
    assert RunConfig.from_dict(run_config(min_new_tokens=3)).effective_min_new_tokens == 3


def test_run_config_round_trips_and_hash_is_stable():
    run = RunConfig.from_dict(run_config())
    again = RunConfig.from_dict(json.loads(json.dumps(run.to_dict())))
    assert again == run and again.digest() == run.digest()
    assert RunConfig.from_dict(run_config(batch_size=1)).digest() != run.digest()


def test_run_config_lists_missing_fields():
    cfg = run_config()
    del cfg["batch_size"], cfg["measurement"]
    with pytest.raises(ConfigError, match="lacks required fields: batch_size, measurement"):
        RunConfig.from_dict(cfg)
    cfg = run_config()
    del cfg["runtime"], cfg["gpus"], cfg["seed"]
    with pytest.raises(ConfigError, match="lacks required fields: gpus, runtime, seed$"):
        RunConfig.from_dict(cfg)


def test_the_typed_run_config_has_each_setting_the_settings_model_declares():
    """RunConfig reads settings that energybench.run.model_settings declares: each setting is
    one field of it (`class` as model_class, the isolation settings nested, the backend's or
    the task's block as backend_block and task_block), and it has no other."""
    from energybench.run.backend_registry import BACKENDS
    from energybench.run.model_settings import ISOLATION_FIELDS, SETTINGS
    from energybench.run.tasks import TASKS

    blocks = {name for name in SETTINGS if name in BACKENDS or name in TASKS}
    settings = {"model_class" if name == "class" else name for name in SETTINGS}
    typed = {field.name for field in dataclasses.fields(RunConfig)}
    assert typed - settings == {
        "model",
        "measurement",
        "isolation",
        "backend_block",
        "task_block",
        "backend_settings",
        "gpus_held",
    }
    assert settings - typed == {*ISOLATION_FIELDS, *blocks}


def test_the_isolation_settings_are_one_nested_block_of_the_typed_run_config():
    """The job layer's settings nest in the typed config; its dict keeps them at the top."""
    written = run_config(runtime="docker", gpus=1, image="org/eb:cuda", cpus=2, timeout_s=90)
    cfg = RunConfig.from_dict(written)
    assert cfg.isolation == Isolation(
        runtime="docker", gpus=1, image="org/eb:cuda", cpus=2, timeout_s=90
    )
    assert cfg.isolation == Isolation.from_run_config(written)
    data = cfg.to_dict()
    assert "isolation" not in data and (data["runtime"], data["gpus"], data["image"]) == (
        "docker",
        1,
        "org/eb:cuda",
    )
    assert "memory" not in data  # unset: left out, as before it was nested


@pytest.mark.parametrize(
    "env_file, needs_all_engine_pins",
    [("envs/benchmark.yaml", True), ("envs/aggregate.yaml", False)],
)
def test_envs_pip_sections_match_pinned_requirements(env_file, needs_all_engine_pins):
    pinned = {
        line.strip()
        for line in open(REPO_ROOT / "requirements/ci.txt")
        if line.strip() and not line.startswith("#")
    }
    env = yaml.safe_load(open(REPO_ROOT / env_file))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {p for p in pip if not p.startswith("-") and "-e " not in p}
    assert listed <= pinned, f"{env_file} pins what CI does not: {listed - pinned}"
    if needs_all_engine_pins:
        # What an engine image installs (host-only tools left out), plus its own torch.
        image = subprocess.run(
            [
                "sh",
                REPO_ROOT / "containers/engine-requirements.sh",
                REPO_ROOT / "requirements/ci.txt",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        engine_needs = {p for p in pinned if p in image.split() or p.startswith("torch==")}
        assert engine_needs <= listed, f"{env_file} lacks {engine_needs - listed}"


def test_cuda_device_needs_a_gpu():
    with pytest.raises(ConfigError, match="model 'm1': device 'cuda' needs gpus >= 1"):
        check_run_configs({"m1": run_config(device="cuda", gpus=0)})
    check_run_configs({"m1": run_config(device="cuda", gpus=1)})


def test_measurement_settings_have_one_home_and_a_missing_one_is_named():
    """config.yaml sets the measurement settings; the schema (generated from their model)
    only checks them, so a default stated twice cannot drift apart, and a setting left out is
    refused by its name."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = REPO_ROOT / "config/schemas/config.schema.yaml"
    reference = load_yaml(schema)["properties"]["measurement"]["$ref"]
    measurement = load_yaml(schema.parent / reference)["properties"]
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    assert set(measurement) == set(config["measurement"])
    assert [name for name, spec in measurement.items() if "default" in spec] == []
    del config["measurement"]["sample_hz"]
    with pytest.raises(WorkflowError, match="'sample_hz' is a required property"):
        validate(config, str(schema))


def _schema_defaults(schema: dict, where, path=()) -> set[tuple]:
    """The key paths a config schema gives a default, through its references to other files."""
    if "$ref" in schema:
        where = (where.parent / schema["$ref"]).resolve()
        schema = load_yaml(where)
    found = set()
    for name, spec in schema.get("properties", {}).items():
        if "default" in spec:
            found.add((*path, name))
        found |= _schema_defaults(spec, where, (*path, name))
    return found


def _key_paths(document: dict, path=()) -> set[tuple]:
    found = set()
    for name, value in document.items():
        found.add((*path, name))
        if isinstance(value, dict):
            found |= _key_paths(value, (*path, name))
    return found


def test_each_config_default_has_one_home():
    """A setting config.yaml ships has its default there; an option it leaves out has its
    default in the schema, which Snakemake's validate fills: none is stated in both, so the
    two cannot drift apart, and the defaults the README names still hold."""
    from snakemake.utils import validate

    schema = REPO_ROOT / "config/schemas/config.schema.yaml"
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    assert _schema_defaults(load_yaml(schema), schema) & _key_paths(config) == set()
    validate(config, str(schema))
    assert config["models_file"] == "config/models.yaml" and config["select"] == {}
    assert config["preset"] is None and config["models_csv"] is None


def test_planning_does_not_import_scipy():
    """The workflow imports these modules and checks every model's settings each time it
    plans, where no trial is summed: importing scipy.stats was a large part of every plan
    (docs/PERFORMANCE.md, section 8). (pandas is imported: it reads the prompt files to count them.)"""
    code = """
import sys
from energybench.plan.aes_model_list import models_from_list
from energybench.aes.preset import apply_preset
from energybench.run.backend_registry import job_resources
from energybench.plan.code_digest import code_digest
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import load_yaml, resolve_model
from energybench.job.isolation import resolve_runtime
from energybench.run.prompts import check_prompt_counts
config = load_yaml("config/config.yaml")
for key, entry in load_yaml("config/models.yaml")["models"].items():
    cfg = resolve_model(key, entry, config["defaults"], config["measurement"])
    check_run_configs({key: cfg})
    check_prompt_counts({key: cfg})
    job_resources(cfg, machine_has_gpus=True)
print("scipy" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    assert done.stdout.split("\n")[-2] == "False", done.stdout + done.stderr
