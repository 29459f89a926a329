"""Every task in one campaign, end to end through the workflow: a text generator, a tiny
image-generation pipeline, a tiny text classifier and a quantized tiny Llama in one config
(process runtime), each with its own figures in the report and models.csv, its own rating
group, label, AES row and site entry. The same three new kinds of model run in the CPU image
the workflow builds in test_docker_pipeline.py, with the Docker tests."""

import pandas as pd
import pytest
import yaml

from conftest import copy_workflow
from energybench.run.report import read_report, validate_report
from test_workflow import snakemake

pytestmark = pytest.mark.e2e

MODELS = {
    "tiny-llama-2l": {
        "tiny": {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512, "seed": 0},
        "class": "A",
        "device": "cpu",
    },
    "tiny-sd": {
        "tiny": {"kind": "diffusion", "seed": 0},
        "task": "image_generation",
        "device": "cpu",
        "num_prompts": 4,
        "batch_size": 2,
        "warmup_prompts": 1,
        "dataset": "data/image_prompts.jsonl",
        "dataset_column": "prompt",
        "image_generation": {"steps": 2, "height": 32, "width": 32},
    },
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
    "tiny-llama-int8": {
        "tiny": {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512, "seed": 0},
        "class": "A",
        "device": "cpu",
        "quantization": {"method": "quanto", "weights": "int8"},
    },
}
NEW_KINDS = ("tiny-sd", "tiny-classifier", "tiny-llama-int8")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("images"))
    (workdir / "config/models.yaml").write_text(yaml.safe_dump({"models": MODELS}))
    snakemake(workdir)
    return workdir


def test_the_image_model_runs_into_its_own_figures_groups_and_outputs(finished):
    results = finished / "results"
    report = read_report(results / "runs/tiny-sd/benchmark_report.json")
    validate_report(report)
    assert report["status"] == "succeeded", report["error"]
    assert report["summary"]["images_generated"] >= 4
    assert report["metrics"]["joules_per_image"] > 0
    assert not (results / "runs/tiny-sd/images").exists()  # save_images not asked
    models = pd.read_csv(results / "tables/models.csv").set_index("model")
    assert models.loc["tiny-sd", "joules_per_image"] == pytest.approx(
        report["metrics"]["joules_per_image"]
    )
    assert pd.isna(models.loc["tiny-llama-2l", "joules_per_image"])
    assert pd.isna(models.loc["tiny-sd", "joules_per_token"])
    ratings = pd.read_csv(results / "tables/ratings.csv").set_index("model")
    assert ratings.loc["tiny-sd", "group"] == "image_generation"
    assert ratings.loc["tiny-llama-2l", "group"] == "text_generation/A"
    assert ratings.loc["tiny-classifier", "group"] == "text_classification"
    assert ratings.loc["tiny-llama-int8", "group"] == "text_generation/A"
    assert models.loc["tiny-llama-int8", "quantization"] == "quanto-int8"
    assert models.loc["tiny-llama-2l", "quantization"] == "none"
    for key in MODELS:
        assert (
            read_report(results / f"runs/{key}/benchmark_report.json")["status"] == "succeeded"
        ), key
        assert (results / f"labels/{key}.svg").stat().st_size > 0
    aes = pd.read_csv(results / "tables/master_results.csv", keep_default_na=False)
    image_row = aes[aes["model_name"] == "tiny-sd"].iloc[0]
    assert (image_row["task"], image_row["model_class"]) == ("image_gen", "")
    assert set(aes["task"]) == {"text_gen", "image_gen", "text_classification"}
    assert "tiny-llama-int8 [quanto-int8]" in set(aes["model_name"])
    assert (results / "labels/tiny-sd.svg").stat().st_size > 0
    assert "Image generation" in (results / "labels/tiny-sd.svg").read_text()
    assert "tiny-sd" in (results / "site/index.html").read_text()
    pages = {page.name: page.read_text() for page in (results / "site/models").iterdir()}
    image_page = next(text for name, text in pages.items() if "tiny-sd" in name)
    text_page = next(text for name, text in pages.items() if "tiny-llama-2l" in name)
    assert 'id="task-figure-joules_per_image"' in image_page
    assert 'id="task-figure-images_per_second"' in image_page
    assert "task-figure-" not in text_page


def test_a_second_run_does_nothing(finished):
    assert "Nothing to be done" in snakemake(finished, "--dry-run").stdout
