"""The commands the per-model rules run and print (energybench.cli): as a person would type
them, run by this checkout's energybench with the interpreter Snakemake runs jobs with."""

import os
import shlex
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, copy_workflow
from energybench.cli import build_parser, rule_command

PACKAGE = str(REPO_ROOT / "src" / "energybench")


@pytest.fixture
def decoy_package(tmp_path):
    """An energybench that fails when imported: where a command found it, it took the wrong one."""
    decoy = tmp_path / "decoy"
    (decoy / "energybench").mkdir(parents=True)
    (decoy / "energybench" / "__init__.py").write_text("raise SystemExit('decoy energybench')\n")
    return decoy


def printed_commands(workdir, *targets) -> list[str]:
    """The per-model commands a dry run prints; the plan must write no results."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--cores",
            "1",
            "--dry-run",
            "--printshellcmds",
            *targets,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (workdir / "results").exists()
    return [
        line.removeprefix("Shell command:").strip()
        for line in result.stdout.splitlines()
        if "src/energybench " in line
    ]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A copy of the workflow and the commands of its default plan."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    return workdir, printed_commands(workdir, "all")


def test_every_printed_command_is_a_plain_energybench_command(planned):
    _, commands = planned
    steps = {shlex.split(line)[2] for line in commands}
    assert steps == {"tiny-model", "benchmark"}
    for line in commands:
        assert "$" not in line and "PYTHONPATH" not in line, line
        words = shlex.split(line.split(" 2> ")[0])
        assert words[:2] == [sys.executable, "src/energybench"], line
        build_parser().parse_args(words[2:])  # exits on an argument the command lacks


def test_a_planned_benchmark_command_carries_no_run_config(planned):
    """The printed command names the file of the planned settings, never a setting (`ps`
    shows a command to every user of the machine); the plan writes no such file."""
    _, commands = planned
    benchmarks = [line for line in commands if " benchmark " in line]
    assert len(benchmarks) == 2  # the two default models
    assert not any("max_new_tokens" in line or "{" in line for line in benchmarks)
    assert all("--settings results/settings/tiny-llama-" in line for line in benchmarks)


@pytest.mark.e2e
def test_a_printed_command_rerun_by_hand_runs_this_checkouts_code(planned, decoy_package):
    """Copied from the dry run's output into a shell, with another energybench first on
    PYTHONPATH, a step runs as printed and builds its model."""
    workdir, commands = planned
    (command,) = [line for line in commands if "tiny-model" in line and "tiny-llama-2l" in line]
    env = {**os.environ, "PYTHONPATH": str(decoy_package)}
    (workdir / "logs/tiny_model").mkdir(parents=True)
    result = subprocess.run(
        ["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (workdir / "logs/tiny_model/tiny-llama-2l.log").read_text()
    assert (workdir / "resources/models/tiny-llama-2l/config.json").exists()


def test_in_a_conda_env_a_command_finds_energybench_without_pythonpath(tmp_path):
    """Under --sdm conda Snakemake starts the command without PYTHONPATH and with the
    environment's bin first on PATH: the command runs that `python` on this checkout's code."""
    env_bin = tmp_path / "env" / "bin"
    env_bin.mkdir(parents=True)
    (env_bin / "python").symlink_to(sys.executable)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = f"{env_bin}{os.pathsep}{env['PATH']}"
    command = rule_command(PACKAGE, in_conda_env=True)
    assert command.startswith("python ")
    result = subprocess.run(
        ["bash", "-c", command + " --help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "tiny-model" in result.stdout


def test_a_run_started_by_a_command_imports_the_same_energybench(decoy_package):
    """The benchmark command starts its run as `python -m energybench run` in a new process:
    run as a folder, the command hands its own package on, before any on PYTHONPATH."""
    started_run = (
        "import runpy, subprocess, sys\n"
        "sys.argv = ['energybench', '--help']\n"
        "try:\n"
        f"    runpy.run_path({PACKAGE!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "subprocess.run([sys.executable, '-c', 'import energybench; print(energybench.__file__)'],"
        " check=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", started_run],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(decoy_package)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == os.path.join(PACKAGE, "__init__.py")


@pytest.mark.e2e
def test_a_workflow_step_ignores_another_python_first_on_path(tmp_path):
    """A step names its interpreter: a `python` first on PATH (a system one without torch,
    say) is not what builds the tiny model."""
    (tmp_path / "workflow").mkdir()
    workdir = copy_workflow(tmp_path / "workflow")
    shadowing = tmp_path / "bin"
    shadowing.mkdir()
    (shadowing / "python").write_text("#!/bin/sh\necho 'not this python' >&2\nexit 3\n")
    (shadowing / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{shadowing}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "resources/models/tiny-llama-2l"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "resources/models/tiny-llama-2l/config.json").exists()
