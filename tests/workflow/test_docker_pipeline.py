"""The pipeline through Docker, end to end, against the real engine: the workflow builds the
registry-free CPU image, runs the tiny default models in containers, leaves no container
behind (also when interrupted mid-model), and reruns the models when the image's sources
change but not when a plot script does; in the image it built, the other kinds of model
(image generation, text classification, a quantized model) run too. Podman runs the default
models once (test_podman_pipeline.py)."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import copy_workflow, cpu_base_image, require
from energybench.run.report import read_report, validate_report
from energybench.job.isolation import MODEL_LABEL, PIPELINE_LABEL
from energybench.job.isolation import container_cli
from test_image_pipeline import MODELS as EVERY_KIND
from test_image_pipeline import NEW_KINDS
from test_workflow import COMPARISON_JOBS, DEFAULT_MODELS, FIGURE_JOBS, planned_jobs, snakemake

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
DOCKER_CONFIG = ["--config", 'defaults={"runtime": "docker"}']
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "1", "--resources", "gpu=1"]


def pipeline_containers(engine: str, models) -> list[str]:
    """The engine's containers of `models` with the pipeline's label. Only those of the test's
    own models: the lifecycle tests (tests/isolation/test_docker_runtime.py), a work unit
    beside this one, run containers with that label meanwhile."""
    return [
        container
        for model in models
        for container in subprocess.run(
            [
                engine,
                "ps",
                "-aq",
                "--filter",
                f"label={PIPELINE_LABEL}",
                "--filter",
                f"label={MODEL_LABEL}={model}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
    ]


def run_pipeline_in(engine: str, workdir):
    problem = container_cli.daemon_problem(engine)
    require(problem is None, f"no {engine} engine: {problem} (run .ci/start-{engine}.sh as root)")
    cpu_base_image(engine)  # made once for both workers' container tests; the workflow finds it
    copy_workflow(workdir)
    config = ["--config", f'defaults={{"runtime": "{engine}"}}']
    result = subprocess.run(
        [*SNAKEMAKE, *config], cwd=workdir, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir


def built_image_id(workdir, engine: str) -> str:
    return (workdir / f"results/images/{engine}-cpu.id").read_text().strip().removeprefix("sha256:")


def check_reports_from_containers(workdir, engine: str) -> None:
    for model in DEFAULT_MODELS:
        report = read_report(workdir / f"results/runs/{model}/benchmark_report.json")
        validate_report(report)
        assert report["status"] == "succeeded", report["error"]
        runtime = report["provenance"]["runtime"]
        assert runtime["name"] == engine
        assert runtime["image_id"].removeprefix("sha256:") == built_image_id(workdir, engine)
    assert pipeline_containers(engine, DEFAULT_MODELS) == []


@pytest.fixture(scope="module")
def docker_run(tmp_path_factory):
    return run_pipeline_in("docker", tmp_path_factory.mktemp("docker-workflow"))


def test_default_models_run_in_containers(docker_run):
    check_reports_from_containers(docker_run, "docker")


def test_every_new_kind_of_model_runs_in_the_docker_image(docker_run, tmp_path):
    """The image generator, the classifier and the quantized model of test_image_pipeline.py
    in the CPU image: diffusers and optimum-quanto are in it, and images come back out."""
    workdir = tmp_path / "kinds"
    shutil.copytree(docker_run, workdir, symlinks=True)  # with the image built: only models run
    models = {key: {**EVERY_KIND[key], "runtime": "docker"} for key in NEW_KINDS}
    models["tiny-sd"]["image_generation"] = {
        "steps": 2,
        "height": 32,
        "width": 32,
        "save_images": True,
    }
    (workdir / "config/models.yaml").write_text(yaml.safe_dump({"models": models}))
    snakemake(
        workdir,
        "--",
        *(f"results/runs/{key}/benchmark_report.json" for key in models),
        timeout=1200,
    )
    reports = {
        key: read_report(workdir / f"results/runs/{key}/benchmark_report.json") for key in models
    }
    for key, report in reports.items():
        assert report["status"] == "succeeded", (key, report["error"])
        runtime = report["provenance"]["runtime"]
        assert runtime["name"] == "docker", key
        assert runtime["image_id"].removeprefix("sha256:") == built_image_id(docker_run, "docker")
    assert reports["tiny-sd"]["provenance"]["backend"]["diffusers"]
    run = workdir / "results/runs/tiny-sd"
    assert len(list((run / "images" / "trial0").glob("*.png"))) == 4  # the first pass's
    assert reports["tiny-classifier"]["config"]["task"] == "text_classification"
    assert reports["tiny-classifier"]["summary"]["queries_per_second"] > 0
    record = reports["tiny-llama-int8"]["provenance"]["backend"]["quantization"]
    assert (record["scheme"], record["library"]) == ("quanto-int8", "optimum-quanto")
    assert pipeline_containers("docker", NEW_KINDS) == []


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
    assert planned_jobs(image, *DOCKER_CONFIG) == sorted(
        ["all", "cpu_image", *COMPARISON_JOBS, *(f"benchmark:{m}" for m in DEFAULT_MODELS)]
    )

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
    process = subprocess.Popen(
        [*SNAKEMAKE, *DOCKER_CONFIG],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not pipeline_containers("docker", DEFAULT_MODELS):
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
    while pipeline_containers("docker", DEFAULT_MODELS) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pipeline_containers("docker", DEFAULT_MODELS) == []
