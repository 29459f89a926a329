"""Model keys can never be a path escape or an unusable file name (issue 14: data loss)."""

import datetime
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, copy_workflow
from energybench.run.errors import ConfigError
from energybench.plan.config import check_models_document, load_yaml
from energybench.job.keys import KEY_REGEX, MAX_KEY_LENGTH, UnsafePathError, child_path, key_problem
from energybench.job.model_job import run_model_job
from energybench.job.tiny import build_tiny_model

MODELS_SCHEMA = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")

BAD_KEYS = [
    ".",
    "..",
    "",
    "-rf",
    "--help",
    ".hidden",
    "a/b",
    "../x",
    "a b",
    "a\nb",
    "x" * 101,
    "ünïcode",
    "a:b",
    "a*",
    "$(id)",
    "a\\b",
    "~",
]
NOT_TEXT = [123, 1.5, True, None, datetime.date(2024, 1, 1)]
GOOD_KEYS = ["a", "9", "llama-3.1-8b", "Qwen2.5_7B", "a.", "a..b", "x" * MAX_KEY_LENGTH]


@pytest.mark.parametrize("key", BAD_KEYS + NOT_TEXT, ids=repr)
def test_unsafe_key_is_rejected_naming_file_key_and_rule(key):
    doc = {"models": {key: {"id": "org/model"}, "fine": {"id": "org/model"}}}
    with pytest.raises(ConfigError) as error:
        check_models_document(doc, MODELS_SCHEMA, "config/my_models.yaml")
    message = str(error.value)
    assert message.startswith("config/my_models.yaml is invalid: model ")
    assert repr(key)[:20] in message or repr(str(key))[:20] in message
    assert "letters, digits" in message and "e.g. llama-3.1-8b" in message
    assert "'fine'" not in message


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_safe_keys_are_accepted(key):
    assert key_problem(key) is None
    check_models_document({"models": {key: {"id": "org/model"}}}, MODELS_SCHEMA, "models.yaml")


def test_numeric_key_from_yaml_gets_a_message_not_a_traceback(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  123:\n    id: org/model\n")
    with pytest.raises(ConfigError, match=r"reads the key 123 as int, not text; quote it"):
        check_models_document(load_yaml(path), MODELS_SCHEMA, str(path))


def test_schema_wildcard_and_python_rule_are_the_same_regex():
    pattern = MODELS_SCHEMA["properties"]["models"]["propertyNames"]["pattern"]
    assert pattern == f"^{KEY_REGEX}$"
    for key in BAD_KEYS + GOOD_KEYS:
        assert (re.fullmatch(KEY_REGEX, key) is None) == (key_problem(key) is not None)
    assert (
        "wildcard_constraints:\n    model=KEY_REGEX" in (REPO_ROOT / "rules/common.smk").read_text()
    )


@pytest.mark.parametrize("name", [".", "..", "-x", "./", "../"])
def test_child_path_refuses_parent_and_self(tmp_path, name):
    with pytest.raises(UnsafePathError, match="refusing to create or delete"):
        child_path(f"{tmp_path}/models/{name}")


def test_child_path_refuses_a_symlink_out_of_its_parent(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "models" / "m").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        child_path(tmp_path / "models" / "m")
    assert child_path(tmp_path / "models" / "n") == tmp_path / "models" / "n"


@pytest.fixture
def resources(tmp_path):
    """A resources/ tree holding another model's weights that nothing may delete."""
    weights = tmp_path / "resources/models/other/weights.bin"
    weights.parent.mkdir(parents=True)
    weights.write_text("precious")
    return tmp_path / "resources", weights


@pytest.mark.parametrize("name", ["..", "."])
def test_tiny_model_build_never_replaces_a_parent(resources, name):
    root, weights = resources
    with pytest.raises(UnsafePathError):
        build_tiny_model(f"{root}/models/{name}")
    assert weights.read_text() == "precious"


def test_job_never_writes_a_report_outside_its_model_directory(resources):
    root, weights = resources
    report = root / "benchmark_report.json"
    report.write_text("another run's report")
    with pytest.raises(UnsafePathError):
        run_model_job(
            {"model": "..", "gpus": 0},
            f"{root}/models/../benchmark_report.json",
            str(root / "log"),
            gpus=0,
        )
    assert report.read_text() == "another run's report" and weights.exists()


@pytest.mark.e2e
def test_workflow_refuses_a_parent_key_before_any_job(tmp_path):
    """Today's code deleted everything under resources/ on a forced run of key `..`."""
    workdir = copy_workflow(tmp_path)
    weights = workdir / "resources/models/other/weights.bin"
    weights.parent.mkdir(parents=True)
    weights.write_text("precious")
    (workdir / "config/models.yaml").write_text(
        "models:\n  '..':\n    tiny: {hidden_size: 64, num_layers: 1, num_heads: 1}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--forceall"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert (
        "energybench configuration error: config/models.yaml is invalid: model key '..'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert weights.read_text() == "precious"
    assert sorted(p.name for p in (workdir / "resources").rglob("*")) == [
        "models",
        "other",
        "weights.bin",
    ]
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()
