"""What users type: every YAML file read as UTF-8 (with or without a BOM) or refused with
the file named; YAML errors name the file and line; merge keys work."""

import subprocess
import sys

import pytest

from conftest import REPO_ROOT, copy_workflow, files_holding
from energybench.run.errors import ConfigError
from energybench.plan.config import load_yaml

MODELS = "models:\n  m:  # a comment: ü\n    id: org/model\n"


@pytest.mark.parametrize(
    "encoding, pattern",
    [
        ("utf-16", "is UTF-16 text .* save it as UTF-8"),
        ("utf-16-le", "is UTF-16 text"),
        ("utf-16-be", "is UTF-16 text"),
        ("latin-1", r"is not UTF-8 text: byte 0xfc on line 2 \(Latin-1"),
        ("cp1252", "is not UTF-8 text: byte 0xfc on line 2"),
    ],
)
def test_text_in_another_encoding_is_refused_naming_the_file(tmp_path, encoding, pattern):
    path = tmp_path / "models.yaml"
    path.write_bytes(MODELS.encode(encoding))
    with pytest.raises(ConfigError, match=pattern) as error:
        load_yaml(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", bytes(range(256)), b"models:\x00\n"]
)
def test_binary_file_is_refused_naming_the_file(tmp_path, data):
    path = tmp_path / "models.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="binary file|UTF-16|not UTF-8") as error:
        load_yaml(path)
    assert str(path) in str(error.value)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MODELS.encode())
    assert load_yaml(path) == {"models": {"m": {"id": "org/model"}}}


def test_merge_keys_are_accepted_and_own_keys_override(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "base: &base {class: B, batch_size: 4}\n"
        "models:\n  a:\n    <<: *base\n    id: org/a\n    batch_size: 8\n"
        "  b:\n    <<: *base\n    id: org/b\n"
    )
    models = load_yaml(path)["models"]
    assert models == {
        "a": {"class": "B", "batch_size": 8, "id": "org/a"},
        "b": {"class": "B", "batch_size": 4, "id": "org/b"},
    }
    path.write_text("models:\n  a:\n    <<: {id: x}\n    batch_size: 1\n    batch_size: 2\n")
    with pytest.raises(ConfigError, match="duplicate key 'batch_size' at line 5"):
        load_yaml(path)


@pytest.mark.parametrize(
    "text, line",
    [
        ("defaults:\n  batch_size: [4\nmeasurement: {}\n", 3),
        ("defaults:\n\tbatch_size: 4\n", 2),
        ("a: 'unclosed\n", 2),
        ("? [a, b]\n: 1\n", 1),
    ],
)
def test_syntax_error_names_file_and_line(tmp_path, text, line):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"{path}, line {line}\b|{path}: a key at line {line}"):
        load_yaml(path)


@pytest.mark.e2e
def test_workflow_names_the_config_file_and_line_without_a_traceback(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text().replace("batch_size: 4", "batch_size: [4"))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "energybench configuration error: config/config.yaml, line" in result.stderr
    config.write_bytes((REPO_ROOT / "config/config.yaml").read_text().encode("utf-16"))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "config/config.yaml is UTF-16 text" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.e2e
def test_readme_target_command_plans_the_run(tmp_path):
    """`--resources` takes every word after it: the README's command must still see its target."""
    import shlex

    (command,) = [
        line
        for line in (REPO_ROOT / "README.md").read_text().splitlines()
        if line.startswith("snakemake ") and "benchmark_report.json" in line
    ]
    argv = shlex.split(command.replace("llama-3.1-8b", "tiny-llama-2l"))
    result = subprocess.run(
        [sys.executable, "-m", *argv, "--dry-run"],
        cwd=copy_workflow(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "benchmark" in result.stdout and "aggregate" not in result.stdout


@pytest.mark.e2e
def test_results_dir_that_is_a_file_is_a_clear_error(tmp_path):
    import os

    workdir = copy_workflow(tmp_path)
    (workdir / "results.txt").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n"],
        cwd=workdir,
        env={**os.environ, "RESULTS_DIR": "results.txt"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "RESULTS_DIR results.txt is a file, not a directory" in result.stderr


@pytest.mark.e2e
def test_credentials_in_an_endpoint_url_stop_the_workflow_before_anything_is_written(tmp_path):
    password = "pl4nted-Pa55w0rd-c0ffee"
    workdir = copy_workflow(tmp_path)
    (workdir / "config/models.yaml").write_text(
        "models:\n  served:\n    id: org/served\n    backend: vllm\n"
        f"    vllm: {{mode: external, endpoint: 'http://user:{password}@gpu:8000/v1'}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "credentials in a URL" in result.stderr
    assert "api_key_env" in result.stderr and not (workdir / "results").exists()
    written = [
        name
        for name in files_holding(
            password, workdir, console=(result.stdout + result.stderr).encode()
        )
        if not name.endswith("config/models.yaml")
    ]
    assert written == []


@pytest.mark.e2e
@pytest.mark.parametrize(
    "name, content, where",
    [
        ("bad.jsonl", '{"text": "a"}\n{"text": "b"\n', "bad.jsonl, line 2, column"),
        ("bad.csv", "text\na\nb,extra\n", "bad.csv, line 3: 2 fields where the header has 1"),
    ],
)
def test_a_malformed_dataset_stops_the_plan_with_one_paragraph(tmp_path, name, content, where):
    workdir = copy_workflow(tmp_path)
    (workdir / "data" / name).write_text(content)
    (workdir / "config/models.yaml").write_text(
        f"models:\n  m:\n    tiny: {{hidden_size: 64}}\n    dataset: data/{name}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Error in file" not in result.stderr and "Exception" not in result.stderr
    assert f"energybench configuration error: model 'm': dataset file data/{where}" in result.stderr
