"""Image generation on the pytorch backend: the tiny pipeline built offline, a real run of it,
its figures per image, and bad input named before any job runs."""

import json
import re

import pandas as pd
import pytest

from conftest import REPO_ROOT
from energybench.aes.preset import apply_preset
from energybench.run.backends.diffusion import ImageSettings, size_multiple
from energybench.run.errors import ConfigError
from energybench.plan.config import check_models_document, load_yaml, resolve_model
from energybench.plan.consistency import check_run_configs
from energybench.run.prompts import check_prompt_counts
from energybench.run.report import read_report, validate_report

CONFIG = load_yaml(REPO_ROOT / "config/config.yaml")
MODELS_SCHEMA = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")
IMAGE_PROMPTS = str(REPO_ROOT / "data/image_prompts.jsonl")


def image_model(model_id: str, **entry) -> dict:
    return resolve_model(
        "img",
        {
            "id": model_id,
            "task": "image_generation",
            "dataset": IMAGE_PROMPTS,
            "dataset_column": "prompt",
            **entry,
        },
        CONFIG["defaults"],
        {**CONFIG["measurement"], "idle_seconds": 0},
    )


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    from energybench.job.tiny_models import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "tiny-sd", {"kind": "diffusion"})


@pytest.fixture(scope="module")
def image_run(pipeline_dir, tmp_path_factory):
    """A real run of the tiny pipeline on the CPU: 3 prompts in batches of 2, 2 images each."""
    from energybench.run import benchmark

    run_dir = tmp_path_factory.mktemp("run")
    run_config = image_model(
        str(pipeline_dir),
        num_prompts=3,
        batch_size=2,
        warmup_prompts=1,
        image_generation={
            "steps": 2,
            "height": 32,
            "width": 32,
            "images_per_prompt": 2,
            "save_images": True,
        },
    )
    check_run_configs({"img": run_config})
    assert benchmark.run(run_config, run_dir / "benchmark_report.json") == 0
    return run_dir, read_report(run_dir / "benchmark_report.json")


def test_the_tiny_pipeline_is_a_diffusers_pipeline_with_its_tokenizer(pipeline_dir):
    index = json.loads((pipeline_dir / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert {"unet", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(index)
    assert (pipeline_dir / "tokenizer" / "tokenizer.json").is_file()
    assert size_multiple(pipeline_dir) == 8  # a two-block VAE; Stable Diffusion checks 8


def test_a_transformer_pipeline_needs_twice_its_vae_factor(tmp_path):
    (tmp_path / "vae").mkdir()
    (tmp_path / "transformer").mkdir()
    (tmp_path / "vae" / "config.json").write_text(
        json.dumps({"block_out_channels": [128, 256, 512, 512]})
    )
    assert size_multiple(tmp_path) == 16
    assert size_multiple(tmp_path / "transformer") is None


def test_a_run_counts_images_and_divides_its_energy_by_them(image_run):
    run_dir, report = image_run
    validate_report(report)
    assert report["status"] == "succeeded", report["error"]
    summary, metrics = report["summary"], report["metrics"]
    passes = summary["successful_prompts"] // 3
    assert summary["images_generated"] == 3 * 2 * passes
    assert summary["total_completion_tokens"] is None
    total_j = report["energy"]["total"]["gross_joules"]
    assert metrics["joules_per_image"] == pytest.approx(total_j / summary["images_generated"])
    assert metrics["total_wh_per_1000_images"] == pytest.approx(
        1000 * total_j / 3600 / summary["images_generated"]
    )
    # No GPU here: the GPU's figures are null with the reason, never 0.
    assert metrics["wh_per_1000_images"] is None
    assert "no GPU" in metrics["null_reasons"]["gpu.wh_per_1000_images"]
    assert metrics["joules_per_token"] is None and metrics["tokens_per_joule"] is None
    assert summary["images_per_second"] == pytest.approx(
        summary["images_generated"] / summary["total_duration_seconds"]
    )
    backend = report["provenance"]["backend"]
    assert backend["pipeline"] == "StableDiffusionPipeline" and backend["images_dir"] == "images"
    assert backend["image_generation"]["call_arguments"] == {
        "num_images_per_prompt": 2,
        "num_inference_steps": 2,
        "height": 32,
        "width": 32,
    }
    assert report["memory"]["framework_reason"].startswith("the model ran on the CPU")
    # The first pass's images, written after the window, as asked.
    assert len(list((run_dir / "images" / "trial0").glob("*.png"))) == 3 * 2


def test_images_are_written_only_when_asked(pipeline_dir, tmp_path):
    from energybench.run import benchmark

    run_config = image_model(
        str(pipeline_dir),
        num_prompts=1,
        batch_size=1,
        warmup_prompts=0,
        image_generation={"steps": 1, "height": 16, "width": 16},
    )
    assert benchmark.run(run_config, tmp_path / "benchmark_report.json") == 0
    assert not (tmp_path / "images").exists()
    assert read_report(tmp_path / "benchmark_report.json")["metrics"]["joules_per_image"] > 0


def test_settings_left_out_keep_the_pipelines_defaults():
    assert ImageSettings().call_arguments() == {"num_images_per_prompt": 1}
    assert ImageSettings(steps=4, guidance_scale=0.0).call_arguments() == {
        "num_images_per_prompt": 1,
        "num_inference_steps": 4,
        "guidance_scale": 0.0,
    }


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"backend": "vllm"},
            "model 'img': task 'image_generation' does not run on backend "
            "'vllm' (backends that run it: pytorch)",
        ),
        (
            {"image_generation": {"height": 36}},
            "model 'img': field 'image_generation.height': 36 is not a multiple of 8",
        ),
    ],
)
def test_a_task_its_backend_cannot_run_or_a_size_the_model_refuses_is_named(entry, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_run_configs({"img": image_model("org/sd", **entry)})


def test_a_local_pipeline_is_checked_against_its_own_vae(tmp_path):
    (tmp_path / "vae").mkdir()
    (tmp_path / "transformer").mkdir()
    (tmp_path / "vae" / "config.json").write_text(json.dumps({"block_out_channels": [1] * 4}))
    with pytest.raises(
        ConfigError,
        match=re.escape("field 'image_generation.width': 520 is not a multiple of 16 (the VAE of"),
    ):
        check_run_configs({"img": image_model(str(tmp_path), image_generation={"width": 520})})


@pytest.mark.parametrize(
    "block, field",
    [
        ({"steps": 0}, "image_generation.steps"),
        ({"guidance_scale": -1}, "image_generation.guidance_scale"),
        ({"height": 4}, "image_generation.height"),
        ({"images_per_prompt": 0}, "image_generation.images_per_prompt"),
    ],
)
def test_steps_guidance_and_sizes_out_of_range_name_model_and_field(block, field):
    document = {
        "models": {"img": {"id": "org/sd", "task": "image_generation", "image_generation": block}}
    }
    with pytest.raises(
        ConfigError, match=re.escape(f"models.yaml is invalid: model 'img', field '{field}'")
    ):
        check_models_document(document, MODELS_SCHEMA, "models.yaml")


@pytest.mark.parametrize(
    "entry, message",
    [
        ({}, "model 'txt', field '(entry)': 'task' is a dependency of 'image_generation'"),
        ({"task": "text_generation"}, "model 'txt', field 'task': 'image_generation' was expected"),
    ],
)
def test_an_image_block_on_a_text_model_is_refused(entry, message):
    document = {"models": {"txt": {"id": "org/m", "image_generation": {"steps": 2}, **entry}}}
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_models_document(document, MODELS_SCHEMA, "models.yaml")


def test_an_image_prompt_set_without_the_column_is_named_before_any_job(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"caption": "a cat"}\n' * 20)
    with pytest.raises(
        ConfigError,
        match=re.escape(
            f"model 'img': dataset file {prompts} has no column 'prompt' (columns: caption)"
        ),
    ):
        check_prompt_counts({"img": image_model("org/sd", dataset=str(prompts))})


def test_aes_preset_makes_one_image_per_prompt_from_its_image_prompt_set():
    preset = apply_preset(
        "aes", image_model("org/sd", image_generation={"steps": 28, "images_per_prompt": 4})
    )
    assert preset["dataset"] == "EnergyStarAI/image_generation"
    assert preset["dataset_column"] == "prompt" and preset["batch_size"] == 1
    assert preset["image_generation"] == {"steps": 28, "images_per_prompt": 1}
    assert "temperature" not in preset and preset["protocol"] == "aes"
    check_run_configs({"img": preset})


def test_tables_labels_and_aes_files_name_the_image_task_in_its_own_terms(image_run):
    from energybench.publish.paper.aggregate import MODEL_COLUMNS
    from energybench.aes.identity import identity
    from energybench.publish.paper.tables import TABLES
    from energybench.run.report import Report
    from energybench.run.tasks import task_in_words

    report = Report.from_dict(image_run[1])
    image_columns = [
        "images_generated",
        "images_per_second",
        "avg_seconds_per_image",
        "wh_per_1000_images",
        "total_wh_per_1000_images",
        "joules_per_image",
    ]
    frame = TABLES["models"].frame(TABLES["models"].rows(report))
    assert list(frame.columns) == MODEL_COLUMNS + image_columns
    assert frame.loc[0, "joules_per_image"] == report.metrics.joules_per_image
    assert pd.isna(frame.loc[0, "wh_per_1000_images"])  # no GPU: empty, never 0
    text_only = TABLES["models"].frame([{"model": "text"}])
    assert list(text_only.columns) == MODEL_COLUMNS
    # AES rates image generation without classes and states no reasoning for it.
    assert identity(report.config, "img") == {
        "model_name": "img",
        "model_class": "",
        "task": "image_gen",
        "reasoning_state": "",
    }
    assert task_in_words("image_generation", "A") == "Image generation"
