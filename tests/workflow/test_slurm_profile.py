"""profiles/slurm on a real SLURM cluster (.ci/start-slurm.sh starts one on this machine).

A toy workflow shaped like the pipeline (rules tiny_model, benchmark, aggregate) runs
through `--profile profiles/slurm` together with the workflow profile profiles/default,
exactly as Snakemake combines them for the real Snakefile. The test cluster advertises
placeholder GPUs, so the GPU request path (rule resource `gpu` -> sbatch --gpus ->
CUDA_VISIBLE_DEVICES -> energybench.job.gpus) runs for real.

The status-check intervals are shortened on the command line: the profile's are meant for
real clusters and hour-long jobs, and would only make these seconds-long jobs wait.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_workflow, require
from energybench.run.report import read_report, validate_report

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"

RECORD_JOB = """\
import json, os, sys, time
from energybench.job.gpus import allocate_gpus

gpu_count, output = int(sys.argv[1]), sys.argv[2]
started = time.time()
with allocate_gpus(gpu_count, timeout_s=0) as devices:
    time.sleep(5)  # long enough for two jobs that run at once to overlap
record = {
    "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    "devices": devices,
    "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "started": started,
    "ended": time.time(),
}
with open(output, "w") as out:
    json.dump(record, out)
"""

SNAKEFILE = """\
import sys

MODELS = ["model_a", "model_b"]

localrules: all

rule all:
    input: "summary.json"

rule tiny_model:
    output: "tiny_model.txt"
    resources: gpu=0
    shell: "echo ${{SLURM_JOB_ID:?not run by SLURM}} > {output}"

rule benchmark:
    input: "tiny_model.txt"
    output: "runs/{model}.json"
    resources: gpu=1
    shell: "{sys.executable} record_job.py {resources.gpu} {output}"

rule aggregate:
    input: expand("runs/{model}.json", model=MODELS)
    output: "summary.json"
    run:
        import json
        records = {path: json.load(open(path)) for path in input}
        json.dump(records, open(output[0], "w"), indent=1)
"""


def slurm_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    try:
        result = subprocess.run(
            ["sinfo", "--noheader", "--format=%P"], capture_output=True, text=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def slurm_gpu_count() -> int:
    """GPUs (gres gpu) of the cluster's nodes, as `sinfo` reports them, e.g. gpu:name:2."""
    result = subprocess.run(
        ["sinfo", "--noheader", "--format=%G"], capture_output=True, text=True, timeout=10
    )
    counts = [
        int(gres.split(":")[-1].split("(")[0])
        for line in result.stdout.split()
        for gres in line.split(",")
        if gres.startswith("gpu:")
    ]
    return max(counts, default=0)


@pytest.fixture
def toy_workflow(tmp_path):
    require(slurm_answers(), "no SLURM cluster answers `sinfo` (run .ci/start-slurm.sh as root)")
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "record_job.py").write_text(RECORD_JOB)
    return tmp_path


def run_snakemake(workdir: Path, *extra: str, timeout_s: int) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    # The job must learn its GPUs from SLURM alone, as on a real cluster.
    for name in ("CUDA_VISIBLE_DEVICES", "ENERGYBENCH_GPU_DEVICES", "SLURM_JOB_ID"):
        environment.pop(name, None)
    command = [
        sys.executable, "-m", "snakemake",
        "--profile", str(PROFILES / "slurm"),
        "--workflow-profile", str(PROFILES / "default"),
        "--slurm-init-seconds-before-status-checks", "1",
        "--seconds-between-status-checks", "2",
        *extra,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=timeout_s
    )


@pytest.mark.integration
def test_toy_workflow_runs_through_the_slurm_profile(toy_workflow):
    require(slurm_gpu_count() >= 2, "the SLURM node has fewer than 2 GPUs (gres gpu)")
    started = time.monotonic()
    result = run_snakemake(toy_workflow, timeout_s=300)
    duration_s = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"toy workflow on SLURM: {duration_s:.1f} s")

    assert (toy_workflow / "tiny_model.txt").read_text().strip().isdigit()  # a SLURM job id
    records = json.loads((toy_workflow / "summary.json").read_text())
    first, second = (records[f"runs/{model}.json"] for model in ("model_a", "model_b"))
    for record in (first, second):
        # SLURM assigned the device and energybench.job.gpus took it as it was.
        assert record["slurm_job_id"]
        assert record["devices"] == record["cuda_visible_devices"].split(",")
        assert len(record["devices"]) == 1
    assert first["slurm_job_id"] != second["slurm_job_id"]
    assert first["devices"] != second["devices"]
    # The workflow profile's `--resources gpu=1` must not serialize cluster jobs.
    assert first["started"] < second["ended"] and second["started"] < first["ended"], (
        "the two single-GPU jobs ran one after the other"
    )


@pytest.mark.integration
def test_an_unknown_partition_fails_with_a_clear_message(toy_workflow):
    result = run_snakemake(
        toy_workflow, "--default-resources", "slurm_partition=no_such_partition", timeout_s=120
    )
    assert result.returncode != 0
    assert "invalid partition specified: no_such_partition" in result.stderr
    assert not (toy_workflow / "tiny_model.txt").exists()


@pytest.mark.integration
@pytest.mark.e2e
def test_default_pipeline_runs_through_the_slurm_profile(tmp_path):
    """The real Snakefile on the tiny default, every job a SLURM job; a rerun redoes only
    what is missing."""
    require(slurm_answers(), "no SLURM cluster answers `sinfo` (run .ci/start-slurm.sh as root)")
    workdir = copy_workflow(tmp_path)
    result = run_snakemake(workdir, timeout_s=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for model in ("tiny-llama-2l", "tiny-llama-4l"):
        report = read_report(workdir / f"results/runs/{model}/benchmark_report.json")
        validate_report(report)
        assert report["status"] == "succeeded", report["error"]
        assert report["provenance"]["scheduler"]["slurm_job_id"], "the run was not a SLURM job"
    assert (workdir / "results/tables/models.csv").exists()

    # Lost outputs (one model's report, and so the table made from it) are made again alone.
    (workdir / "results/runs/tiny-llama-4l/benchmark_report.json").unlink()
    (workdir / "results/tables/models.csv").unlink()
    dry_run = run_snakemake(workdir, "--dry-run", timeout_s=120)
    assert dry_run.returncode == 0, dry_run.stderr
    plan = dry_run.stdout + dry_run.stderr
    planned = sorted(set(re.findall(r"^(?:local)?rule (\w+):", plan, re.MULTILINE)))
    assert planned == sorted(
        [
            "aes_master_results",
            "all",
            "benchmark",
            "figure_energy",
            "figure_latency",
            "figure_pareto",
            "figure_phases",
            "labels_and_timelines",
            "ratings",
            "reports",
            "site",
            "tables",
        ]
    ), plan
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", plan)
    assert not any(
        re.match(r"(?:local)?rule benchmark:", b.strip()) and "model=tiny-llama-2l" in b
        for b in blocks
    ), plan
