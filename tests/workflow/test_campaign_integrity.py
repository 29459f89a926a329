"""A campaign that nothing silently changes or loses, end to end through the workflow: a plan
writes nothing (.snakemake/, Snakemake's own records, excepted), a job runs the settings it
was planned with, reruns follow real changes only, a failed rerun keeps the last good report,
GPU models get GPUs, and every JSON is strict."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT, copy_workflow
from test_workflow import (
    SNAKEMAKE,
    edit_models,
    jobs_remaking,
    planned_jobs,
    snakemake,
)

from energybench.plan.config import planned_settings

pytestmark = pytest.mark.e2e

AES_LIST = REPO_ROOT / "tests/data/aes/oct_2025_models.csv"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The shipped default workflow, run to completion."""
    workdir = copy_workflow(tmp_path_factory.mktemp("campaign"))
    snakemake(workdir)
    return workdir


@pytest.fixture
def finished_copy(finished, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished, workdir, symlinks=True)
    return workdir


def gpu_host(tmp_path: Path, count: int = 2) -> dict[str, str]:
    """Environment under which every Python process of the workflow (the plan, the jobs, the
    runs) sees ``count`` GPUs through the NVML stand-in: a GPU node, as far as NVML goes.
    torch still sees none, as on a node whose CUDA is broken. Its GPU locks are its own: the
    machine-wide lock folder is shared with every other test run here, and a lock held there
    would hand the job another device than the test expects."""
    site = tmp_path / "gpu-host"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT / 'tests')!r})\n"
        "import fake_nvml\n"
        "sys.modules['pynvml'] = fake_nvml.FakeNvml(\n"
        f"    [fake_nvml.FakeGpu(f'GPU-{{i}}') for i in range({count})])\n"
    )
    return {"PYTHONPATH": str(site), "ENERGYBENCH_GPU_LOCK_DIR": str(tmp_path / "gpu-locks")}


def benchmark_gpus(plan: str) -> dict[str, int]:
    """{model: the `gpu` resource of its benchmark job} in a dry run's output."""
    jobs = {}
    for block in re.split(r"\n(?=rule \w+:)", plan):
        if block.startswith("rule benchmark:"):
            model = re.search(r"wildcards: model=([\w.-]+)", block).group(1)
            jobs[model] = int(re.search(r"resources: .*\bgpu=(\d+)", block).group(1))
    return jobs


def tree_state(workdir: Path) -> dict[str, tuple]:
    """Every path under ``workdir`` but Snakemake's own .snakemake/, with its size and
    modification time: what a command that writes nothing leaves exactly as it was."""
    state = {}
    for path in workdir.rglob("*"):
        relative = path.relative_to(workdir)
        if relative.parts[0] != ".snakemake":
            stat = path.lstat()
            state[str(relative)] = (path.is_dir(), stat.st_size, stat.st_mtime_ns)
    return state


PLANS = {
    "dry run": ["--dry-run"],
    "dry run with other settings": ["--dry-run", "--config", 'defaults={"num_prompts": 3}'],
    "lint": ["--lint"],
    "summary": ["--summary"],
    "detailed summary": ["--detailed-summary"],
    "list rules": ["--list-rules"],
    "list target rules": ["--list-target-rules"],
    "list changed params": ["--list-changes", "params"],
    "list changed code": ["--list-changes", "code"],
    "html report": ["--report", "{outside}/report.html"],
}


@pytest.mark.parametrize("plan", PLANS, ids=list(PLANS))
def test_a_plan_writes_nothing_in_a_finished_campaign_or_a_fresh_checkout(finished, tmp_path, plan):
    fresh = copy_workflow(tmp_path / "fresh")
    for workdir in (finished, fresh):
        before = tree_state(workdir)
        args = [arg.replace("{outside}", str(tmp_path)) for arg in PLANS[plan]]
        if plan == "html report" and workdir is fresh:
            continue  # a report needs the outputs it shows
        snakemake(workdir, *args, check=plan != "lint")
        assert tree_state(workdir) == before, (plan, workdir)


def test_a_dry_run_or_an_edit_during_a_run_changes_nothing_that_run_does(tmp_path):
    """While a job runs, another invocation plans with other settings and models.yaml is
    edited: the job runs, and its report records, the settings it was planned with."""
    workdir = copy_workflow(tmp_path)
    config = workdir / "config/config.yaml"
    config.write_text(re.sub(r"idle_seconds: \S+", "idle_seconds: 8", config.read_text()))
    target = "results/runs/tiny-llama-2l/benchmark_report.json"
    log = workdir / "logs/benchmark/tiny-llama-2l.log"
    run = subprocess.Popen(
        [*SNAKEMAKE, "--", target],
        cwd=workdir,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while not (log.exists() and "measuring idle power" in log.read_text()):
        assert time.monotonic() < deadline and run.poll() is None, run.stdout.read()
        time.sleep(0.5)
    planned = list((workdir / "results/settings/tiny-llama-2l").iterdir())
    snakemake(workdir, "--dry-run", "--config", 'defaults={"num_prompts": 3}', "--", target)
    snakemake(workdir, "--dry-run", "--config", "preset=aes", "--", target, check=False)
    models = workdir / "config/models.yaml"
    original = models.read_text()
    edit_models(workdir, lambda m: m["tiny-llama-2l"].update(num_prompts=4))
    snakemake(workdir, "--dry-run", "--", target)
    output = run.communicate(timeout=300)[0]
    assert run.returncode == 0, output

    assert list((workdir / "results/settings/tiny-llama-2l").iterdir()) == planned
    report = json.loads((workdir / target).read_text())
    assert report["status"] == "succeeded"
    assert report["config"]["num_prompts"] == 8
    assert planned_settings(report["config"]) == json.loads(planned[0].read_text())
    # The edit is a real change, planned as one; without it the report is up to date.
    assert planned_jobs(workdir, "--", target) == ["benchmark:tiny-llama-2l"]
    models.write_text(original)
    assert planned_jobs(workdir, "--", target) == []


def reversed_entries(models: dict) -> None:
    for key, entry in list(models.items()):
        models[key] = dict(reversed(list(entry.items())))


def defaults_restated_in_config_yaml(workdir: Path) -> None:
    """The same values written another way in config.yaml: a float for a whole number, no
    preset said aloud."""
    path = workdir / "config/config.yaml"
    text = path.read_text().replace("max_new_tokens: 16\n", "max_new_tokens: 16.0\n")
    path.write_text(text + "preset: null\n")


def report_of_an_older_version_in_another_key_order(workdir: Path) -> None:
    """A stored report whose settings (`config`) an older version wrote in another key
    order, its file's times kept: they are the same settings as the plan's."""
    path = workdir / "results/runs/tiny-llama-2l/benchmark_report.json"
    report = json.loads(path.read_text())
    (planned,) = (workdir / "results/settings/tiny-llama-2l").iterdir()
    assert planned_settings(report["config"]) == json.loads(planned.read_text())
    report["config"] = dict(reversed(list(report["config"].items())))
    times = path.stat()
    path.unlink()  # the attempt in history/ keeps its own copy
    path.write_text(json.dumps(report))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert planned_settings(report["config"]) == json.loads(planned.read_text())


def in_models_yaml(edit):
    return lambda workdir: edit_models(workdir, edit)


# (case, edit of models.yaml, --config values, the jobs a dry run plans)
SAME_SETTINGS_OR_NOT = [
    ("entries' keys in another order", in_models_yaml(reversed_entries), [], []),
    (
        "a default restated in models.yaml",
        in_models_yaml(lambda m: m["tiny-llama-2l"].update(seed=0, dtype="auto")),
        [],
        [],
    ),
    ("the same values given in config.yaml", defaults_restated_in_config_yaml, [], []),
    (
        "a stored report from an older version with another key order",
        report_of_an_older_version_in_another_key_order,
        [],
        [],
    ),
    ("a default restated on --config", None, ['defaults={"seed": 0, "batch_size": 4}'], []),
    ("a whole number written as a float", None, ['defaults={"max_new_tokens": 16.0}'], []),
    ("a measurement setting restated", None, ['measurement={"sample_hz": 10}'], []),
    ("no preset, said aloud", None, ["preset=null"], []),
    (
        "an unselected model added",
        in_models_yaml(lambda m: m.update(other={"id": "org/other"})),
        ['select={"model": "tiny-*"}'],
        [],
    ),
    (
        "one model's real change",
        in_models_yaml(lambda m: m["tiny-llama-4l"].update(max_new_tokens=8)),
        [],
        jobs_remaking("tiny-llama-4l"),
    ),
    (
        "a real change of the defaults that one model overrides",
        None,
        ['defaults={"batch_size": 8}'],
        jobs_remaking("tiny-llama-2l"),
    ),
]


@pytest.mark.parametrize(
    "edit, config, expected",
    [case[1:] for case in SAME_SETTINGS_OR_NOT],
    ids=[case[0] for case in SAME_SETTINGS_OR_NOT],
)
def test_settings_are_compared_in_their_canonical_form(finished_copy, edit, config, expected):
    if edit:
        edit(finished_copy)
    args = ["--config", *config] if config else []
    assert planned_jobs(finished_copy, *args) == expected


def test_restating_a_value_of_a_preset_campaign_reruns_nothing(tmp_path):
    """The issue's own example: `--config preset=aes 'defaults={"seed": 0}'` plans the very
    settings of `--config preset=aes` (the file each job reads is named by their digest)."""
    workdir = copy_workflow(tmp_path / "workflow")
    args = ["--dry-run", "--printshellcmds", "--config", "preset=aes"]
    preset = planned_settings_files(snakemake(workdir, *args).stdout)
    restated = planned_settings_files(snakemake(workdir, *args, 'defaults={"seed": 0}').stdout)
    assert preset and restated == preset


def test_a_failed_rerun_keeps_the_last_good_report_and_every_table_says_so(finished_copy, tmp_path):
    """On a GPU node (the NVML stand-in) whose CUDA torch cannot use, tiny-llama-4l is asked
    to run on the GPU: it gets one, its rerun fails naming the cause, and the measurement it
    replaces stays on disk and in every table."""
    workdir = finished_copy
    run_dir = workdir / "results/runs/tiny-llama-4l"
    good = (run_dir / "benchmark_report.json").read_bytes()
    edit_models(workdir, lambda m: m["tiny-llama-4l"].update(device="auto"))
    snakemake(workdir, env=gpu_host(tmp_path))

    failed = json.loads((run_dir / "benchmark_report.json").read_text())
    assert failed["status"] == "failed" and failed["error"]["type"] == "NoGpuVisible"
    assert "holds 1 GPU(s), but torch sees no CUDA device" in failed["error"]["message"]
    assert failed["provenance"]["runtime"]["gpus"] == ["0"]  # the device its job held
    attempts = sorted((run_dir / "history").iterdir())
    assert len(attempts) == 2
    assert (attempts[0] / "benchmark_report.json").read_bytes() == good
    with open(workdir / "results/tables/models.csv") as table:
        rows = {row["model"]: row for row in csv.DictReader(table)}
    shown = rows["tiny-llama-4l"]
    assert shown["status"] == "succeeded" and float(shown["total_wh_per_1000_queries"]) > 0
    assert shown["note"].startswith(f"shown: the earlier attempt history/{attempts[0].name}")
    assert "NoGpuVisible" in shown["note"] and rows["tiny-llama-2l"]["note"] == ""
    with open(workdir / "results/tables/ratings.csv") as table:
        ratings = {row["model"]: row for row in csv.DictReader(table)}
    assert ratings["tiny-llama-4l"]["note"] == shown["note"]
    site = (workdir / "results/site/index.html").read_text()
    assert f"history/{attempts[0].name}" in site
    # Nothing else ran again, and the failed attempt is the output: a plain rerun keeps it.
    assert planned_jobs(workdir) == []


def test_an_interrupted_rerun_keeps_the_good_report_and_paper_mode_still_shows_it(finished_copy):
    """A forced rerun stopped by Ctrl-C (SIGINT to the workflow's process group) once its job
    has unpublished the good report: the report stays in the model's history, paper mode
    shows it from there with a note (the model never drops out of the tables unsaid), and
    the next plain run redoes the model."""
    workdir = finished_copy
    target = "results/runs/tiny-llama-2l/benchmark_report.json"
    run_dir = workdir / "results/runs/tiny-llama-2l"
    good = (workdir / target).read_bytes()
    earlier = set((run_dir / "history").iterdir())
    workflow = subprocess.Popen(
        [*SNAKEMAKE, "--forcerun", target, "--", target],
        cwd=workdir,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    # The job has unpublished the report and is starting its run.
    while not any(
        (attempt / "run_config.json").exists()
        for attempt in set((run_dir / "history").iterdir()) - earlier
    ):
        assert time.monotonic() < deadline and workflow.poll() is None, workflow.stdout.read()
        time.sleep(0.1)
    os.killpg(workflow.pid, signal.SIGINT)
    output = workflow.communicate(timeout=120)[0]
    assert not (workdir / target).exists(), output
    (kept,) = [
        attempt
        for attempt in (run_dir / "history").iterdir()
        if (attempt / "benchmark_report.json").is_file()
    ]
    assert (kept / "benchmark_report.json").read_bytes() == good

    snakemake(workdir, "--config", "paper=true", "--", "paper")
    with open(workdir / "results/tables/models.csv") as table:
        rows = {row["model"]: row for row in csv.DictReader(table)}
    shown = rows["tiny-llama-2l"]
    assert shown["status"] == "succeeded" and float(shown["total_wh_per_1000_queries"]) > 0
    assert shown["note"].startswith(
        f"shown: the kept attempt history/{kept.name}; no report is published"
    )
    assert f"history/{kept.name}" in (workdir / "results/site/index.html").read_text()
    assert (workdir / "results/labels/tiny-llama-2l.svg").is_file()
    assert "benchmark:tiny-llama-2l" in planned_jobs(workdir)


def test_a_gpu_host_plans_a_gpu_for_every_gpu_model_an_aes_list_included(tmp_path):
    workdir = copy_workflow(tmp_path / "workflow")
    env = gpu_host(tmp_path)
    # The shipped tiny models say device: cpu; an imported AES list says nothing.
    plan = snakemake(workdir, "--dry-run", env=env).stdout
    assert benchmark_gpus(plan) == {"tiny-llama-2l": 0, "tiny-llama-4l": 0}
    plan = snakemake(
        workdir,
        "--dry-run",
        "--config",
        f"models_csv={AES_LIST}",
        "models_csv_skip_invalid=true",
        env=env,
    ).stdout
    planned = benchmark_gpus(plan)
    assert len(planned) > 50 and set(planned.values()) == {1}
    # Without GPUs the same list is planned on the CPU, and the plan says so.
    result = snakemake(
        workdir, "--dry-run", "--config", f"models_csv={AES_LIST}", "models_csv_skip_invalid=true"
    )
    assert set(benchmark_gpus(result.stdout).values()) == {0}
    assert f"this machine sees no GPU, so {len(planned)} model(s)" in result.stderr


def planned_settings_files(plan: str) -> dict[str, str]:
    """{model: the settings file its benchmark job reads (named by the digest)} in a dry run
    printed with --printshellcmds."""
    return dict(re.findall(r"--settings results/settings/([\w.-]+)/(\w+)\.json", plan))


@pytest.mark.parametrize("node_gpus", ["auto", "2"])
def test_a_preset_model_is_planned_alike_on_a_gpu_less_submit_host_and_its_gpu_node(
    tmp_path, node_gpus
):
    """Under SLURM each job's node parses the workflow again: the preset's settings, and so
    the file the job reads, must not depend on the GPUs the parsing host sees. The node's
    count comes from node_gpus, or is the job's own (its `gpu` resource there, recorded in
    its report), never written into the settings."""
    workdir = copy_workflow(tmp_path / "workflow")
    edit_models(workdir, lambda m: m.update(big={"id": "org/big"}))  # pytorch, gpus: auto
    args = [
        "--dry-run",
        "--printshellcmds",
        "--resources",
        "gpu=2",
        "--config",
        "preset=aes",
        f"node_gpus={node_gpus}",
    ]
    submit_host = snakemake(workdir, *args, env={"ENERGYBENCH_GPU_DEVICES": ""}).stdout
    node = snakemake(workdir, *args, env={"ENERGYBENCH_GPU_DEVICES": "0,1"}).stdout
    assert planned_settings_files(submit_host)["big"] == planned_settings_files(node)["big"]
    assert benchmark_gpus(node)["big"] == 2  # every GPU of the node, as AES


def test_models_with_different_gpu_counts_each_get_their_own(tmp_path):
    """Where models differ, each benchmark job's `gpu` resource is its own model's (the rule
    takes a look-up then, and a static value only where every model has the same)."""
    workdir = copy_workflow(tmp_path / "workflow")
    edit_models(
        workdir,
        lambda m: m.update(
            big={"id": "org/big", "backend": "vllm", "vllm": {"tensor_parallel_size": 2}}
        ),
    )
    plan = snakemake(workdir, "--dry-run", "--resources", "gpu=2", env=gpu_host(tmp_path)).stdout
    assert benchmark_gpus(plan) == {"tiny-llama-2l": 0, "tiny-llama-4l": 0, "big": 2}


@pytest.mark.parametrize(
    "tensor_parallel_size, resources, expected",
    [
        (2, "gpu=1", "model 'big' takes 2 GPU(s) but --resources gpu=1 lets no job hold more"),
        (4, "gpu=8", "model 'big' takes 4 GPU(s) but the machine that runs the jobs has 2"),
    ],
)
def test_more_gpus_than_a_job_can_hold_are_refused_before_any_job(
    tmp_path, tensor_parallel_size, resources, expected
):
    workdir = copy_workflow(tmp_path / "workflow")
    edit_models(
        workdir,
        lambda m: m.update(
            big={
                "id": "org/big",
                "backend": "vllm",
                "vllm": {"tensor_parallel_size": tensor_parallel_size},
            }
        ),
    )
    result = subprocess.run(
        [*SNAKEMAKE[:-2], "--resources", resources, "--dry-run"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **gpu_host(tmp_path)},
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr
    assert not (workdir / "results").exists()


def refuse_constant(name: str):
    raise ValueError(f"not JSON: {name}")


def test_every_json_the_workflow_writes_is_strict_json(finished):
    # results/ and the tiny models the workflow builds under resources/ (their spec files
    # and the configs and tokenizers transformers writes beside them).
    written = [
        p
        for folder in ("results", "resources")
        for p in (finished / folder).rglob("*")
        if p.suffix in (".json", ".jsonl")
    ]
    assert len(written) > 10
    assert any(p.name == "energybench_tiny.json" for p in written)
    for path in written:
        text = path.read_text()
        documents = text.splitlines() if path.suffix == ".jsonl" else [text]
        for document in documents:
            json.loads(document, parse_constant=refuse_constant)
    # The report's settings round-trip as the plan wrote them.
    for model in ("tiny-llama-2l", "tiny-llama-4l"):
        report = json.loads((finished / f"results/runs/{model}/benchmark_report.json").read_text())
        (settings,) = (finished / f"results/settings/{model}").iterdir()
        assert planned_settings(report["config"]) == json.loads(settings.read_text())
