"""A bug in building, validating or encoding a report loses no measurement: the run's failed
report names the side file that keeps the figures it measured (energybench.run.benchmark)."""

import json

import pytest
from pydantic import BaseModel

from conftest import REPO_ROOT
from energybench.plan.config import load_yaml, resolve_model
from energybench.run import benchmark, report_builder
from energybench.run.files import json_text
from energybench.run.report import read_report


@pytest.fixture(scope="module")
def run_config(tmp_path_factory):
    from energybench.job.tiny import build_tiny_model

    config = load_yaml(REPO_ROOT / "config/config.yaml")
    model = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return resolve_model(
        "tiny-cpu",
        {
            "id": str(model),
            "num_prompts": 2,
            "batch_size": 1,
            "max_new_tokens": 2,
            "warmup_prompts": 0,
            "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
        },
        config["defaults"],
        {**config["measurement"], "idle_seconds": 0},
    )


class Strict(BaseModel):
    figure: int


def failing_to_validate(*args, **kwargs):
    Strict.model_validate({"figure": "many"})  # as a mistyped section of the report would


def with_a_nan(*args, **kwargs):
    report = completed_report(*args, **kwargs)
    summary = report.summary.model_copy(update={"avg_latency_seconds": float("nan")})
    return report.model_copy(update={"summary": summary})  # as a figure computed from nothing


completed_report = report_builder.completed_report


@pytest.mark.parametrize("builder", [failing_to_validate, with_a_nan])
def test_a_report_that_cannot_be_built_or_written_keeps_the_figures(
    monkeypatch, tmp_path, run_config, builder
):
    monkeypatch.setattr(report_builder, "completed_report", builder)
    output = tmp_path / "run" / "benchmark_report.json"
    assert benchmark.run(run_config, output) == 1
    report = read_report(output)
    assert report["status"] == "failed" and report["error"]["type"] == "ReportNotWritten"
    assert (
        "could not be built or written (ValidationError: " in report["error"]["message"]
        or "could not be built or written (ValueError: " in report["error"]["message"]
    )
    assert "kept, unchecked, in unvalidated_report.json" in report["error"]["message"]
    text = (output.parent / benchmark.UNVALIDATED_NAME).read_text()
    kept = json.loads(text, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
    assert kept["trials"], "the measured figures are in the side file"


def test_plain_json_turns_nan_and_odd_values_into_json():
    import numpy as np

    document = benchmark.plain_json(
        {
            "a": float("nan"),
            "b": np.float64(2.5),
            "c": np.array([1, 2]),
            "d": (float("inf"),),
            3: object,
        }
    )
    assert json.loads(json_text(document))["a"] is None
    assert document["b"] == 2.5 and document["c"] == [1, 2] and document["d"] == [None]
    assert document["3"].startswith("<class")
