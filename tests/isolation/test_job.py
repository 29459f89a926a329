"""The job layer (energybench.job.model_job): one model's job, from run config to a report, whatever
happens to the run."""

import json
import os

import pytest

from conftest import REPO_ROOT
from energybench.plan.config import load_yaml, resolve_model
from energybench.job.model_job import run_model_job
from energybench.run.provenance import code_version
from energybench.run.report import read_report, validate_report


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from energybench.job.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_a_run_past_its_timeout_is_stopped_with_a_failed_report_naming_it(tmp_path, tiny_model):
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    # A minute of idle baseline: the run cannot finish within its two-second limit.
    measurement = {**config["measurement"], "idle_seconds": 60}
    entry = {
        "id": str(tiny_model),
        "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
        "timeout_s": 2,
    }
    run_config = resolve_model("slow", entry, config["defaults"], measurement)
    report_path = tmp_path / "runs/slow/benchmark_report.json"

    status = run_model_job(run_config, str(report_path), str(tmp_path / "slow.log"), gpus=0)

    assert status == "failed"
    report = read_report(report_path)
    validate_report(report)
    assert report["error"]["type"] == "LaunchError"
    assert report["error"]["cause"] == "timeout"
    assert "did not finish within 2 s" in report["error"]["message"]
    assert report["energy"]["total"]["gross_joules"] is None  # no figure, never a zero


def test_how_the_run_was_launched_goes_down_in_its_config_and_into_its_report(tmp_path, tiny_model):
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    entry = {
        "id": str(tiny_model),
        "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
        "num_prompts": 2,
        "warmup_prompts": 0,
        "max_new_tokens": 2,
    }
    run_config = resolve_model(
        "quick", entry, config["defaults"], {**config["measurement"], "idle_seconds": 0}
    )
    report_path = tmp_path / "runs/quick/benchmark_report.json"

    status = run_model_job(run_config, str(report_path), str(tmp_path / "quick.log"), gpus=0)

    report = read_report(report_path)
    assert status == "succeeded", report["error"]
    launch = json.loads((report_path.parent / "run_config.json").read_text())["launch"]
    assert launch["gpus"] == []  # the planned count: none
    assert launch["runtime"] == "process" and launch["code_version"] == code_version(REPO_ROOT)
    assert report["provenance"]["code_version"] == launch["code_version"]
    assert report["provenance"]["runtime"] == {
        "name": "process",
        "image": None,
        "image_id": None,
        "gpus": launch["gpus"],
        "container": None,
    }
    assert "launch" not in report["config"]  # provenance, not config
    assert not any(name.startswith("ENERGYBENCH_CODE") for name in os.environ)
