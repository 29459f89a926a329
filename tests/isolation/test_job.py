"""The job layer (energybench.job): one model's job, from run config to a report, whatever
happens to the run."""

import pytest

from conftest import REPO_ROOT
from energybench.config import load_yaml, resolve_model
from energybench.job import run_model_job
from energybench.report import read_report, validate_report


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from energybench.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_a_run_past_its_timeout_is_stopped_with_a_failed_report_naming_it(tmp_path, tiny_model):
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    # A minute of idle baseline: the run cannot finish within its two-second limit.
    measurement = {**config["measurement"], "idle_seconds": 60}
    entry = {"id": str(tiny_model), "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
             "timeout_s": 2}
    run_config = resolve_model("slow", entry, config["defaults"], measurement)
    report_path = tmp_path / "runs/slow/benchmark_report.json"

    status = run_model_job(run_config, str(report_path), str(tmp_path / "slow.log"))

    assert status == "failed"
    report = read_report(report_path)
    validate_report(report)
    assert report["error"]["type"] == "LaunchError"
    assert report["error"]["cause"] == "timeout"
    assert "did not finish within 2 s" in report["error"]["message"]
    assert report["energy"]["total"]["gross_joules"] is None  # no figure, never a zero
