"""A quantized tiny Llama beside its unquantized twin, end to end through the workflow (the
process runtime; in Docker: tests/workflow/test_docker_pipeline.py): each report, table row,
AES row, label and site row says which weights it measured."""

import csv

import pandas as pd
import pytest
import yaml

from conftest import copy_workflow
from energybench.run.report import read_report, validate_report
from test_workflow import snakemake

pytestmark = pytest.mark.e2e

TINY = {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512, "seed": 0}
TWINS = {
    "tiny-llama": {"tiny": TINY, "class": "A", "device": "cpu"},
    "tiny-llama-int8": {
        "tiny": TINY,
        "class": "A",
        "device": "cpu",
        "quantization": {"method": "quanto", "weights": "int8"},
    },
}


def run_twins(workdir, runtime: str):
    copy_workflow(workdir)
    (workdir / "config/models.yaml").write_text(yaml.safe_dump({"models": TWINS}))
    # Docker's first run builds the CPU image (debootstrap, torch and the requirements).
    snakemake(workdir, "--config", f'defaults={{"runtime": "{runtime}"}}', timeout=1200)
    return workdir


def check_twins(workdir, runtime: str) -> None:
    reports = {
        key: read_report(workdir / f"results/runs/{key}/benchmark_report.json") for key in TWINS
    }
    for key, report in reports.items():
        validate_report(report)
        assert report["status"] == "succeeded", report["error"]
        assert report["provenance"]["runtime"]["name"] == runtime
    assert reports["tiny-llama"]["provenance"]["backend"]["quantization"] is None
    record = reports["tiny-llama-int8"]["provenance"]["backend"]["quantization"]
    assert {k: record[k] for k in ("scheme", "bits", "library")} == {
        "scheme": "quanto-int8",
        "bits": 8,
        "library": "optimum-quanto",
    }
    assert record["version"]
    # The settings that rerun the model hold the scheme.
    assert (
        reports["tiny-llama-int8"]["config"]["quantization"]
        == TWINS["tiny-llama-int8"]["quantization"]
    )
    assert "quantization" not in reports["tiny-llama"]["config"]

    table = pd.read_csv(workdir / "results/tables/models.csv").set_index("model")
    assert table.loc["tiny-llama", "quantization"] == "none"
    assert table.loc["tiny-llama-int8", "quantization"] == "quanto-int8"
    with (workdir / "results/tables/master_results.csv").open() as aes_table:
        names = sorted(row["model_name"] for row in csv.DictReader(aes_table))
    assert names == ["tiny-llama", "tiny-llama-int8 [quanto-int8]"]
    with (workdir / "results/site/leaderboard.csv").open() as board:
        schemes = {row["model"]: row["quantization"] for row in csv.DictReader(board)}
    assert schemes == {"tiny-llama": "", "tiny-llama-int8": "quanto-int8"}
    assert '<span class="scheme"' in (workdir / "results/site/index.html").read_text()
    page = (workdir / "results/site/models/tiny-llama-int8.html").read_text()
    assert '<span id="quantization">weights quanto-int8</span>' in page
    assert (workdir / "results/labels/tiny-llama-int8.png").stat().st_size > 0


def test_quantized_twin_through_the_workflow_in_a_process(tmp_path):
    check_twins(run_twins(tmp_path, "process"), "process")
