"""The pipeline through the container runtimes, end to end, against real engines: the
workflow builds the registry-free CPU image, runs the tiny default models in containers,
leaves no container behind (also when interrupted mid-model), and reruns the models when
the image's sources change but not when a plot script does. Docker is tested throughout;
podman (daemonless, its own image store) runs the default models once."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import copy_workflow, require
from energybench.run.report import read_report, validate_report
from energybench.job.isolation import PIPELINE_LABEL
from energybench.job.isolation import container_cli
from test_workflow import COMPARISON_JOBS, FIGURE_JOBS, planned_jobs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
DOCKER_CONFIG = ["--config", 'defaults={"runtime": "docker"}']
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "1", "--resources", "gpu=1"]


def pipeline_containers(engine: str = "docker") -> list[str]:
    return subprocess.run(
        [engine, "ps", "-aq", "--filter", f"label={PIPELINE_LABEL}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()


def run_pipeline_in(engine: str, workdir):
    problem = container_cli.daemon_problem(engine)
    require(problem is None, f"no {engine} engine: {problem} (run .ci/start-{engine}.sh as root)")
    copy_workflow(workdir)
    config = ["--config", f'defaults={{"runtime": "{engine}"}}']
    result = subprocess.run([*SNAKEMAKE, *config], cwd=workdir, capture_output=True,
                            text=True, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir


def check_reports_from_containers(workdir, engine: str) -> None:
    image_id = (workdir / f"results/images/{engine}-cpu.id").read_text().strip()
    for model in ("tiny-llama-2l", "tiny-llama-4l"):
        report = read_report(workdir / f"results/runs/{model}/benchmark_report.json")
        validate_report(report)
        assert report["status"] == "succeeded", report["error"]
        runtime = report["provenance"]["runtime"]
        assert runtime["name"] == engine
        assert runtime["image_id"].removeprefix("sha256:") == image_id.removeprefix("sha256:")
    assert pipeline_containers(engine) == []


@pytest.fixture(scope="module")
def docker_run(tmp_path_factory):
    return run_pipeline_in("docker", tmp_path_factory.mktemp("docker-workflow"))


def test_default_models_run_in_containers(docker_run):
    check_reports_from_containers(docker_run, "docker")


def test_default_models_run_in_podman_containers(tmp_path):
    check_reports_from_containers(run_pipeline_in("podman", tmp_path), "podman")


def test_changed_dockerfile_reruns_the_models_and_a_plot_script_does_not(docker_run, tmp_path):
    plots = tmp_path / "plots"
    shutil.copytree(docker_run, plots, symlinks=True)
    with open(plots / "scripts/paper_figure.py", "a") as script:
        script.write("# edited\n")
    assert planned_jobs(plots, *DOCKER_CONFIG) == ["all", *FIGURE_JOBS, "site"]  # it shows them

    image = tmp_path / "image"
    shutil.copytree(docker_run, image, symlinks=True)
    with open(image / "containers/Dockerfile.cpu", "a") as dockerfile:
        dockerfile.write("# edited\n")
    models = ["tiny-llama-2l", "tiny-llama-4l"]
    assert planned_jobs(image, *DOCKER_CONFIG) == sorted(
        ["all", "cpu_image", *COMPARISON_JOBS, *(f"benchmark:{m}" for m in models)])

    code = tmp_path / "code"
    shutil.copytree(docker_run, code, symlinks=True)
    os.utime(code / "src/energybench/run/meters/nvml.py")  # touched, not changed: nothing to do
    assert planned_jobs(code, *DOCKER_CONFIG) == []
    with open(code / "src/energybench/run/meters/nvml.py", "a") as source:
        source.write("# edited\n")
    assert planned_jobs(code, *DOCKER_CONFIG) == planned_jobs(image, *DOCKER_CONFIG)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_leaves_no_container(docker_run, tmp_path, signum):
    """Ctrl-C reaches the whole process group; a SIGTERM (kill, a scheduler) only Snakemake."""
    workdir = tmp_path / "copy"
    shutil.copytree(docker_run, workdir, symlinks=True)
    for outputs in ("runs", "tables", "figures"):  # all but the image: the models rerun
        shutil.rmtree(workdir / "results" / outputs)
    process = subprocess.Popen([*SNAKEMAKE, *DOCKER_CONFIG], cwd=workdir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not pipeline_containers():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "no container started"
            time.sleep(0.2)
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 30
    while pipeline_containers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pipeline_containers() == []
