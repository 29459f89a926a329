"""A tiny text classifier beside a tiny text generator, end to end through the workflow: the
classifier's report has its task's figures (per query, queries per second; no per-token
figure, null with its reason), and the tables, ratings, AES's table, labels and site group it
by its task."""

import csv

import pandas as pd
import pytest
import yaml

from conftest import copy_workflow
from energybench.run.report import read_report, validate_report
from test_workflow import snakemake

pytestmark = pytest.mark.e2e

MODELS = {
    "tiny-classifier": {
        "task": "text_classification",
        "class": "A",
        "device": "cpu",
        "tiny": {
            "hidden_size": 128,
            "num_layers": 2,
            "num_heads": 2,
            "vocab_size": 512,
            "labels": 2,
        },
        "batch_size": 8,
    },
    "tiny-llama": {
        "tiny": {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512},
        "class": "A",
        "device": "cpu",
    },
}


def test_a_text_classifier_through_the_workflow_in_a_process(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "config/models.yaml").write_text(yaml.safe_dump({"models": MODELS}))
    snakemake(workdir)

    report = read_report(workdir / "results/runs/tiny-classifier/benchmark_report.json")
    validate_report(report)
    assert report["status"] == "succeeded", report["error"]
    assert report["config"]["task"] == "text_classification"
    assert report["provenance"]["backend"]["labels"] == 2
    summary, metrics = report["summary"], report["metrics"]
    assert summary["total_completion_tokens"] == 0 and summary["total_prompt_tokens"] > 0
    assert summary["queries_per_second"] > 0
    assert summary["completion_tokens_per_second"] is None
    assert summary["avg_time_to_first_token"] is None
    assert metrics["total_wh_per_1000_queries"] > 0 and metrics["joules_per_response"] > 0
    assert metrics["joules_per_token"] is None and metrics["tokens_per_joule"] is None
    assert metrics["null_reasons"]["total.j_per_token"].endswith("(the task generates no tokens)")
    assert report["phases"] is None  # no prefill and decode in a classification

    table = pd.read_csv(workdir / "results/tables/models.csv").set_index("model")
    assert table.loc["tiny-classifier", "task"] == "text_classification"
    assert pd.isna(table.loc["tiny-classifier", "joules_per_token"])
    assert table.loc["tiny-classifier", "queries_per_second"] > 0
    ratings = pd.read_csv(workdir / "results/tables/ratings.csv").set_index("model")
    assert ratings.loc["tiny-classifier", "group"] == "text_classification"
    assert ratings.loc["tiny-llama", "group"] == "text_generation/A"
    with (workdir / "results/tables/master_results.csv").open() as aes_table:
        tasks = {row["model_name"]: row["task"] for row in csv.DictReader(aes_table)}
    assert tasks == {"tiny-classifier": "text_classification", "tiny-llama": "text_gen"}
    index = (workdir / "results/site/index.html").read_text()
    assert 'data-group="text_classification"' in index
    assert (workdir / "results/labels/tiny-classifier.png").stat().st_size > 0
