"""End to end: the workflow on the tiny default under AI Energy Score's protocol preset, read
by AES's own tools; an AES model list named in config.yaml."""

import csv
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import copy_workflow
from energybench.run.gpu_pool import DEVICES_ENV
from energybench.run.report import read_report
from test_workflow import planned_jobs, snakemake

AES_DIR = Path(__file__).parents[1] / "data" / "aes"

MODELS = ["tiny-llama-2l"]  # one of the tiny default: what holds for one holds for both

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def aes_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("aes"))
    # AES's dataset is on the Hub: the campaign's prompts_file, as AES's --prompts-file
    snakemake(
        workdir,
        "--config",
        "preset=aes",
        "prompts_file=data/prompts.jsonl",
        f'select={{"model": "{MODELS[0]}"}}',
        "--printshellcmds",
        "all",
        "aes_submission",
    )
    return workdir


def test_preset_runs_aes_protocol_on_tiny_models(aes_run):
    for model in MODELS:
        report = read_report(aes_run / f"results/runs/{model}/benchmark_report.json")
        assert report["status"] == "succeeded", report["error"]
        config = report["config"]
        assert (config["protocol"], config["batch_size"], config["temperature"]) == ("aes", 1, 0.7)
        assert report["summary"]["total_prompts"] == 10
        assert report["summary"]["total_completion_tokens"] == 10 * 10  # 10 new tokens each
        assert report["summary"]["avg_latency_seconds"] > 0  # each prompt timed alone
    table = list(csv.DictReader((aes_run / "results/tables/models.csv").open()))
    assert {row["protocol"] for row in table} == {"aes"}


def test_aes_readers_take_the_pipeline_outputs(aes_run):
    sys.path.insert(0, str(AES_DIR))
    try:
        import results_aggregator
    finally:
        sys.path.remove(str(AES_DIR))
    path = aes_run / "results/tables/master_results.csv"
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == results_aggregator.ResultsAggregator.COLUMNS
    assert [r["model_name"] for r in rows] == MODELS
    assert {r["avg_total_time"] != "nan" for r in rows} == {True}  # batch 1: AES's latency
    summary = results_aggregator.ResultsAggregator(str(path)).get_results_summary()
    assert summary["successful_runs"] == len(MODELS)
    assert summary["total_tokens"] == sum(int(r["total_tokens"]) for r in rows)
    for model in MODELS:  # AES's per-run files beside each report: no GPU here, so nan
        assert (aes_run / f"results/runs/{model}/GPU_ENERGY_WH.txt").read_text() == "nan\n"
    with zipfile.ZipFile(aes_run / "results/aes/submission.zip") as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    # CPU runs: no GPU energy, nothing to submit, and the manifest says why
    assert manifest["included"] == [] and set(manifest["skipped"]) == set(MODELS)
    assert all("GPU energy unknown" in why for why in manifest["skipped"].values())


def test_models_csv_in_config_plans_one_job_per_row(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "list.csv").write_text(
        ",Models to Add,Priority (1=hi),Class,Task,Reasoning State,Chat Template\n"
        ",https://huggingface.co/Qwen/Qwen3-0.6B,3,A,text_gen,On,enable_thinking=True\n"
        ",https://huggingface.co/Qwen/Qwen3-0.6B,3,A,text_gen,Off,enable_thinking=False\n"
        ",https://huggingface.co/black-forest-labs/FLUX.1-dev,3,,image_gen,,N/A (default)\n"
    )
    result = snakemake(workdir, "--dry-run", "--config", "models_csv=list.csv")
    assert "skipped" not in result.stderr  # image_gen rows run as the image task
    assert "benchmark:black-forest-labs--FLUX.1-dev" in planned_jobs(
        workdir, "--config", "models_csv=list.csv"
    )
    jobs = planned_jobs(
        workdir, "--config", "models_csv=list.csv", 'select={"reasoning_state": "on"}'
    )
    assert "benchmark:Qwen--Qwen3-0.6B--on" in jobs
    assert "benchmark:Qwen--Qwen3-0.6B--off" not in jobs
    assert "aes_models" in jobs  # the record of what the list resolved to


def test_commands_after_a_preset_campaign_keep_its_settings(aes_run):
    """The preset, prompts file and selection were given once: aes_submission, paper and a
    plain rerun plan with them (results/campaign.json), so none plans a benchmark."""
    recorded = json.loads((aes_run / "results/campaign.json").read_text())
    assert (recorded["preset"], recorded["prompts_file"], recorded["select"]) == (
        "aes",
        "data/prompts.jsonl",
        {"model": MODELS[0]},
    )
    for target in (["aes_submission"], ["paper", "--config", "paper=true"], ["all"]):
        result = snakemake(aes_run, "--dry-run", *target)
        assert "results/campaign.json" in result.stderr
        assert not [j for j in planned_jobs(aes_run, *target) if j.startswith("benchmark")]
    # a command that states a campaign setting defines the campaign anew
    assert "benchmark:tiny-llama-4l" in planned_jobs(aes_run, "--config", "preset=null")


def test_the_preset_gives_a_model_every_gpu_of_the_node(monkeypatch, tmp_path):
    """AES's device layout: on a node with two (stand-in) GPUs, a model takes both."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv(DEVICES_ENV, "0,1")
    workdir = copy_workflow(tmp_path)
    (workdir / "gpu_models.yaml").write_text("models:\n  big: {id: org/big, class: C}\n")
    config = [
        "--config",
        "preset=aes",
        "prompts_file=data/prompts.jsonl",
        "models_file=gpu_models.yaml",
    ]
    result = snakemake(workdir, "--dry-run", *config, check=False)
    assert "model 'big' takes 2 GPU(s) but --resources gpu=1" in result.stderr
    result = snakemake(workdir, "--dry-run", "--printshellcmds", "--resources", "gpu=2", *config)
    assert "--gpus 2" in result.stdout


def test_aes_real_list_plans_whole(tmp_path):
    """AES's October 2025 list as shipped: every row planned, its three image_gen rows as
    the image task."""
    workdir = copy_workflow(tmp_path)
    shutil.copy(AES_DIR / "oct_2025_models.csv", workdir)
    config = ["--config", "models_csv=oct_2025_models.csv", "preset=aes"]
    result = snakemake(workdir, "--dry-run", *config)
    assert "skipped" not in result.stderr
    jobs = planned_jobs(workdir, *config)
    assert len([job for job in jobs if job.startswith("benchmark:")]) == 60
    assert "benchmark:black-forest-labs--FLUX.1-dev" in jobs
    assert "benchmark:Qwen--Qwen3-Next-80B-A3B-Instruct--on" in jobs
