"""The per-model rules' command (energybench.steps): which interpreter and which energybench."""

import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, copy_workflow
from energybench.steps import STEP_COMMAND, step_environment

SRC = str(REPO_ROOT / "src")


def run_step(env: dict, in_conda_env: bool) -> subprocess.CompletedProcess:
    """`STEP_COMMAND --help` in bash, as a rule runs it."""
    env = {**env, **step_environment(SRC, in_conda_env)}
    return subprocess.run(["bash", "-c", STEP_COMMAND + " --help"], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def decoy_package(tmp_path):
    """An energybench that fails when run: where a step found it, it imported the wrong one."""
    decoy = tmp_path / "decoy"
    (decoy / "energybench").mkdir(parents=True)
    (decoy / "energybench" / "__init__.py").write_text("")
    (decoy / "energybench" / "steps.py").write_text("raise SystemExit('decoy energybench')\n")
    return decoy


def test_a_step_run_by_hand_without_its_variables_says_where_to_look():
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENERGYBENCH_")}
    result = subprocess.run(["bash", "-c", STEP_COMMAND + " --help"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "see energybench.steps" in result.stderr


def test_a_step_imports_this_checkouts_energybench_before_one_on_pythonpath(decoy_package):
    result = run_step({**os.environ, "PYTHONPATH": str(decoy_package)}, in_conda_env=False)
    assert result.returncode == 0, result.stderr
    assert "python -m energybench.steps" in result.stdout


def test_in_a_conda_env_a_step_finds_energybench_without_pythonpath(tmp_path):
    """Under --sdm conda Snakemake starts the command without PYTHONPATH and with the
    environment's bin first on PATH: the command itself puts this checkout's src first."""
    env_bin = tmp_path / "env" / "bin"
    env_bin.mkdir(parents=True)
    (env_bin / "python").symlink_to(sys.executable)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = f"{env_bin}{os.pathsep}{env['PATH']}"
    result = run_step(env, in_conda_env=True)
    assert result.returncode == 0, result.stderr
    assert "tiny-model" in result.stdout


@pytest.mark.e2e
def test_a_workflow_step_ignores_another_python_first_on_path(tmp_path):
    """A `shell:` step names its interpreter: a `python` first on PATH (a system one without
    torch, say) is not what builds the tiny model."""
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    shadowing = tmp_path / "bin"
    shadowing.mkdir()
    (shadowing / "python").write_text("#!/bin/sh\necho 'not this python' >&2\nexit 3\n")
    (shadowing / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{shadowing}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "resources/models/tiny-llama-2l"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "resources/models/tiny-llama-2l/config.json").exists()


@pytest.mark.e2e
def test_a_planned_benchmark_command_carries_no_run_config(tmp_path):
    """The printed command names the file of the planned settings, never a setting (`ps`
    shows a command to every user of the machine); the plan writes no such file."""
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run", "--printshellcmds"],
        cwd=workdir, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    commands = [line for line in result.stdout.splitlines() if "energybench.steps benchmark" in line]
    assert len(commands) == 2  # the two default models
    assert not any("max_new_tokens" in line or "{" in line.split("-m energybench.steps")[1]
                   for line in commands)
    assert all("--settings results/settings/tiny-llama-" in line for line in commands)
    assert not (workdir / "results").exists()
