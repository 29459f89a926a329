"""End-to-end tests: the Snakemake workflow on the tiny default, in a scratch copy."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO_ROOT, copy_workflow, files_holding
from energybench.run.report import read_report, validate_report

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "1", "--resources", "gpu=1"]
DEFAULT_MODELS = ["tiny-llama-2l", "tiny-llama-4l"]
FIGURE_JOBS = ["figure_energy", "figure_latency", "figure_pareto", "figure_phases"]
# Jobs over every report (through their one collection): any report that changes remakes them
# all; labels_and_timelines draws again only the files whose report or rating changed.
COMPARISON_JOBS = [
    "aes_master_results",
    "labels_and_timelines",
    "ratings",
    "reports",
    "site",
    "tables",
    *FIGURE_JOBS,
]

pytestmark = pytest.mark.e2e


# Planted in every workflow these tests run: no file the workflow writes may contain them.
PLANTED_SECRETS = {"HF_TOKEN": "hf_planted_a5e1c0ffee", "HUGGING_FACE_HUB_TOKEN": "hf_planted_b7"}


def snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*SNAKEMAKE, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **PLANTED_SECRETS, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(workdir: Path, *args: str) -> list[str]:
    """(rule, model) of every job a dry run would execute."""
    output = snakemake(workdir, "--dry-run", *args).stdout
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        match = re.match(r"(?:local)?rule (\w+):", block.strip())
        if match:
            model = re.search(r"wildcards: model=([\w.-]+)", block)
            jobs.append(f"{match.group(1)}:{model.group(1)}" if model else match.group(1))
    return sorted(jobs)


def edit_models(workdir: Path, edit) -> None:
    path = workdir / "config/models.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc["models"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The default workflow plus one model that fails at run time, run to completion."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    (workdir / "not-a-model").mkdir()
    edit_models(
        workdir, lambda models: models.update({"broken": {"id": "./not-a-model", "class": "A"}})
    )
    result = snakemake(workdir)
    return workdir, result


@pytest.fixture
def finished_copy(finished, tmp_path):
    """A scratch copy of the finished workflow, to edit without touching the shared one."""
    workdir = tmp_path / "copy"
    shutil.copytree(finished[0], workdir, symlinks=True)
    return workdir


def jobs_remaking(model: str) -> list[str]:
    """What a changed or lost report of ``model`` remakes: its run and everything over all
    the reports (its label and timeline among them)."""
    return sorted(["all", f"benchmark:{model}", *COMPARISON_JOBS])


def test_dry_run_plans_the_whole_dag(tmp_path):
    workdir = copy_workflow(tmp_path)
    assert planned_jobs(workdir) == sorted(
        ["all", *COMPARISON_JOBS]
        + [f"{rule}:{m}" for m in DEFAULT_MODELS for rule in ("tiny_model", "benchmark")]
    )


def test_reports_table_and_figure(finished):
    workdir, _ = finished
    for model in DEFAULT_MODELS:
        report = read_report(workdir / f"results/runs/{model}/benchmark_report.json")
        validate_report(report)
        assert report["status"] == "succeeded", report["error"]
        # Fixed output length, in every pass of a generate window repeated until long enough.
        passes = report["phases"]["trials"][0]["generate_passes"]
        assert report["summary"]["total_completion_tokens"] == 8 * 16 * passes
        # The shipped default passes its own window checks, its idle window among them.
        windows = [c for c in report["checks"] if c["name"] == "window_long_enough"]
        assert windows and all(c["passed"] for c in windows), windows
        assert report["idle"]["duration_s"] >= max(c["limit"] for c in windows)
        # The run's windows in their order on the timeline's clock, for the timeline figure.
        idle, warm_up = report["idle"], report["warm_up"]
        assert (
            report["load"]["end_s"]
            <= idle["start_s"]
            < idle["end_s"]
            <= warm_up["start_s"]
            <= warm_up["end_s"]
            <= report["trials"][0]["start_s"]
        )
        cpu = report["energy"]["components"]["cpu"]
        assert cpu["gross_joules"] > 0 and cpu["source"] in ("rapl", "estimate")
        assert cpu["estimated"] == (cpu["source"] == "estimate")
        gpu = report["energy"]["components"]["gpu"]
        assert gpu["gross_joules"] is None and gpu["reason"]
        assert (workdir / f"results/runs/{model}/power_timeline.csv").stat().st_size > 0
    table = pd.read_csv(workdir / "results/tables/models.csv")
    assert list(table["model"]) == ["tiny-llama-2l", "tiny-llama-4l", "broken"]
    with (workdir / "results/tables/master_results.csv").open() as aes_table:
        aes = list(csv.DictReader(aes_table))
    assert [r["model_name"] for r in aes] == ["tiny-llama-2l", "tiny-llama-4l", "broken"]
    # CPU runs: GPU energy unknown; the failed run: AES's failed row, its error beside
    assert [r["gpu_energy_wh"] for r in aes] == ["nan", "nan", "0.0000"]
    assert "not-a-model" in aes[2]["error_message"]
    for figure in ("png", "pdf"):
        assert (workdir / f"results/figures/energy_per_1000_queries.{figure}").stat().st_size > 1000
    # `make run` ends with the site: one page per model, the raw reports beside them.
    index = (workdir / "results/site/index.html").read_text()
    for model in [*DEFAULT_MODELS, "broken"]:
        assert f'href="models/{model}.html"' in index
        assert (workdir / f"results/site/runs/{model}/benchmark_report.json").exists()
    assert "not-a-model" in (workdir / "results/site/models/broken.html").read_text()


def test_planted_tokens_reach_no_file_the_workflow_writes(finished):
    workdir, result = finished
    snakemake(workdir, "--report", "report.html")
    assert all(
        (workdir / name).exists() for name in (".snakemake", "logs/benchmark", "report.html")
    )
    console = (result.stdout + result.stderr).encode()
    for token in PLANTED_SECRETS.values():
        assert files_holding(token, workdir, console=console) == []


def test_failed_model_keeps_its_row_without_zero_energy(finished):
    workdir, _ = finished
    report = read_report(workdir / "results/runs/broken/benchmark_report.json")
    validate_report(report)
    assert report["status"] == "failed" and "not-a-model" in report["error"]["message"]
    row = pd.read_csv(workdir / "results/tables/models.csv").set_index("model").loc["broken"]
    assert row["status"] == "failed" and "not-a-model" in row["error_message"]
    assert pd.isna(row["total_energy_wh"]) and pd.isna(row["gpu_energy_wh"])


def test_second_run_does_nothing(finished):
    workdir, _ = finished
    assert "Nothing to be done" in snakemake(workdir, "--dry-run").stdout


def test_editing_the_plot_script_remakes_only_figures_and_the_site_showing_them(finished_copy):
    workdir = finished_copy
    with open(workdir / "scripts/paper_figure.py", "a") as script:
        script.write("# edited\n")
    assert planned_jobs(workdir) == ["all", *FIGURE_JOBS, "site"]  # figures.html shows them


def test_a_moved_workflow_has_nothing_to_do(finished_copy):
    """Moving the checkout (the copy lies elsewhere) changes no rule's command, param or input:
    a rule's command names its interpreter and this checkout through a global of the workflow,
    no part of the rule's text that Snakemake compares."""
    assert planned_jobs(finished_copy) == []


def test_a_lost_report_is_made_again_with_everything_made_from_it(finished_copy):
    # The aggregate rules read the collection of reports, which still exists: `all` names
    # each report, so the lost one is run again and the collection remade.
    workdir = finished_copy
    (workdir / "results/runs/tiny-llama-4l/benchmark_report.json").unlink()
    assert planned_jobs(workdir) == jobs_remaking("tiny-llama-4l")


def test_a_lost_label_or_timeline_file_is_made_again(finished_copy):
    # `all` must name each model's files: Snakemake does not remake a job for a lost output
    # that nothing asks for (the site takes only the SVG label and the PNG timeline).
    workdir = finished_copy
    (workdir / "results/labels/tiny-llama-2l.png").unlink()
    (workdir / "results/figures/runs/tiny-llama-4l/power_timeline.pdf").unlink()
    assert planned_jobs(workdir) == ["all", "labels_and_timelines", "site"]


def test_html_report_of_the_default_run(finished):
    workdir, _ = finished
    snakemake(workdir, "--report", "report.zip")
    names = zipfile.ZipFile(workdir / "report.zip").namelist()
    for output in (
        "energy_per_1000_queries.png",
        "ratings.csv",
        "tiny-llama-2l.png",
        "power_timeline.png",
    ):
        assert any(name.endswith(output) for name in names), output


def test_code_changes_rerun_exactly_the_runs_they_should(finished_copy):
    workdir = finished_copy
    # One param stands for the code: a job header names no source.
    dry_run = snakemake(workdir, "--dry-run", "--forcerun", "benchmark").stdout
    assert "meters/nvml.py" not in dry_run
    every_run_again = planned_jobs(workdir, "--forcerun", "benchmark")
    assert {job for job in every_run_again if job.startswith("benchmark:")} == {
        f"benchmark:{m}" for m in [*DEFAULT_MODELS, "broken"]
    }
    # Touching a source (a checkout, an editor's save) changes no code: nothing reruns.
    os.utime(workdir / "src/energybench/run/meters/nvml.py")
    assert "Nothing to be done" in snakemake(workdir, "--dry-run").stdout
    # Editing what a run executes reruns every run (these are process runs) and what follows.
    with open(workdir / "src/energybench/run/meters/nvml.py", "a") as source:
        source.write("# edited\n")
    assert planned_jobs(workdir) == every_run_again


def test_editing_the_table_code_remakes_tables_and_figures_only(finished_copy):
    workdir = finished_copy
    with open(workdir / "src/energybench/publish/paper/aggregate.py", "a") as source:
        source.write("# edited\n")
    jobs = planned_jobs(workdir)
    assert "all" in jobs and not [
        job for job in jobs if job.startswith(("benchmark:", "tiny_model:"))
    ]


def test_editing_the_site_code_remakes_only_the_site(finished_copy):
    workdir = finished_copy
    with open(workdir / "src/energybench/publish/site/assets/site.css", "a") as stylesheet:
        stylesheet.write("/* edited */\n")
    with open(workdir / "src/energybench/publish/site/build.py", "a") as module:
        module.write("# edited\n")
    assert planned_jobs(workdir) == ["all", "site"]


def test_editing_the_label_code_remakes_the_labels_and_the_site_only(finished_copy):
    # The label jobs name one digest file for their code, not five modules each.
    workdir = finished_copy
    os.utime(workdir / "src/energybench/publish/paper/labels.py")  # touched, not changed
    assert "Nothing to be done" in snakemake(workdir, "--dry-run").stdout
    with open(workdir / "src/energybench/publish/paper/labels.py", "a") as module:
        module.write("# edited\n")
    assert planned_jobs(workdir) == ["all", "labels_and_timelines", "site"]


def test_select_runs_a_subset(tmp_path):
    workdir = copy_workflow(tmp_path)
    jobs = planned_jobs(workdir, "--config", 'select={"class": "B"}')
    assert "benchmark:tiny-llama-4l" in jobs and "benchmark:tiny-llama-2l" not in jobs
    # Snakemake passes nested --config values as strings: booleans and numbers still work.
    jobs = planned_jobs(
        workdir,
        "--config",
        'select={"model": "tiny-*", "reasoning": false, "class": ["A"]}',
        'defaults={"batch_size": 2}',
    )
    assert "benchmark:tiny-llama-2l" in jobs and "benchmark:tiny-llama-4l" not in jobs


def test_seed_variables_move_results_and_choose_the_backend(tmp_path):
    workdir = copy_workflow(tmp_path)
    env = {**os.environ, "RESULTS_DIR": "elsewhere"}
    result = subprocess.run(
        [*SNAKEMAKE, "--dry-run"], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert "elsewhere/runs/tiny-llama-2l/benchmark_report.json" in result.stdout
    env = {**os.environ, "BENCHMARK_BACKEND": "tensorrt"}
    result = subprocess.run(
        [*SNAKEMAKE, "--dry-run"], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0 and "defaults.backend" in result.stderr


def test_a_run_by_hand_into_a_new_folder(tmp_path):
    """`energybench run` outside the pipeline, with an override, into a folder not yet made."""
    from energybench.plan.config import load_yaml, resolve_model
    from energybench.job.tiny import build_tiny_model

    config = load_yaml(REPO_ROOT / "config/config.yaml")
    run_config = resolve_model(
        "by-hand",
        {"id": str(build_tiny_model(tmp_path / "model"))},
        config["defaults"],
        {**config["measurement"], "idle_seconds": 0},
    )
    (tmp_path / "run.json").write_text(json.dumps(run_config))
    output = tmp_path / "new" / "folder" / "benchmark_report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "energybench",
            "run",
            "--config",
            str(tmp_path / "run.json"),
            "--output",
            str(output),
            "--workdir",
            str(REPO_ROOT),
            "scenario.num_samples=4",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = read_report(output)
    validate_report(report)
    # Each pass of the generate window runs the 4 prompts; it repeats until long enough.
    passes = report["phases"]["trials"][0]["generate_passes"]
    assert report["status"] == "succeeded" and report["summary"]["total_prompts"] == 4 * passes
    assert (output.parent / "power_timeline.csv").exists()
    # The model load, metered apart from the trials, and the run's peak memory.
    load = report["load"]
    assert load["duration_s"] > load["metered_s"] > 0 and load["total"]["gross_joules"] > 0
    assert report["memory"]["host_bytes"] > 0 and report["memory"]["framework_reason"]


@pytest.mark.parametrize(
    "case, edit, expected",
    [
        (
            "unknown field",
            lambda m: m["tiny-llama-2l"].update(batch_sise=2),
            r"model 'tiny-llama-2l'.*batch_sise",
        ),
        (
            "bad value",
            lambda m: m["tiny-llama-4l"].update(num_prompts=0),
            r"model 'tiny-llama-4l', field 'num_prompts'",
        ),
        (
            "missing model path",
            lambda m: m.update(ghost={"id": "./models/ghost"}),
            r"model 'ghost': model directory './models/ghost' does not exist",
        ),
        (
            "missing dataset",
            lambda m: m["tiny-llama-2l"].update(dataset="data/absent.jsonl"),
            r"model 'tiny-llama-2l': dataset file 'data/absent.jsonl' does not exist",
        ),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, case, edit, expected):
    workdir = copy_workflow(tmp_path)
    edit_models(workdir, edit)
    result = snakemake(workdir, "--dry-run", check=False)
    assert result.returncode != 0, case
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_model_key_stops_before_any_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    with open(workdir / "config/models.yaml", "a") as models:
        models.write("  tiny-llama-2l:\n    id: org/other\n")
    result = snakemake(workdir, "--dry-run", check=False)
    assert result.returncode != 0
    assert "duplicate key 'tiny-llama-2l'" in result.stderr and "Traceback" not in result.stderr


def test_snakemake_lint_is_clean(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr
    ), result.stdout + result.stderr
