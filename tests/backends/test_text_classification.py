"""Text classification through the task registry: a tiny sequence classifier built offline,
run by the class the registry names, and the settings it refuses before any job."""

import re

import pytest

from conftest import REPO_ROOT
from energybench.run.backend_registry import create_backend
from energybench.run.errors import ConfigError
from energybench.run.settings import RunConfig
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import resolve_model
from energybench.run.energy.units import efficiency_figures
from energybench.run.tasks import TASKS
from test_backends import CONFIG

TINY_CLASSIFIER = {
    "hidden_size": 64,
    "num_layers": 1,
    "num_heads": 1,
    "vocab_size": 300,
    "labels": 3,
}


def classification(**entry):
    return resolve_model(
        "c",
        {"id": "org/model", "task": "text_classification", "device": "cpu", **entry},
        CONFIG["defaults"],
        CONFIG["measurement"],
    )


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    from energybench.job.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "classifier", **TINY_CLASSIFIER)


def test_a_tiny_classifier_built_offline_is_run_by_the_class_the_registry_names(tiny_classifier):
    from energybench.run.backends.text_classification import TextClassificationBackend

    cfg = RunConfig.from_dict(
        classification(
            id=str(tiny_classifier),
            dataset=str(REPO_ROOT / "data/prompts.jsonl"),
            num_prompts=5,
            warmup_prompts=1,
            batch_size=2,
        )
    )
    backend = create_backend(cfg, None)
    assert type(backend) is TextClassificationBackend
    assert TASKS["text_classification"].implementation("pytorch") is TextClassificationBackend
    assert backend.info()["labels"] == 3 and len(backend.texts) == 5
    timing = backend._classify(backend.texts[:2])
    assert timing.prompts == 2 and timing.completion_tokens == 0 and timing.prompt_tokens > 2
    assert timing.time_to_first_token_s is None and timing.latency_s > 0


def test_a_quantized_classifier_loads_its_linear_layers_quantized(tiny_classifier):
    from optimum.quanto import QLinear

    cfg = RunConfig.from_dict(
        classification(
            id=str(tiny_classifier),
            dataset=str(REPO_ROOT / "data/prompts.jsonl"),
            num_prompts=2,
            warmup_prompts=0,
            quantization={"method": "quanto", "weights": "int8"},
        )
    )
    backend = create_backend(cfg, None)
    assert isinstance(backend.model.model.layers[0].mlp.up_proj, QLinear)
    assert backend.info()["quantization"]["scheme"] == "quanto-int8"
    assert backend._classify(backend.texts).prompts == 2


def test_a_classification_has_per_query_figures_and_no_per_token_figure_saying_why():
    # As energybench.run.report_builder computes a trial's figures for a task generating no tokens.
    assert not TASKS["text_classification"].generates_tokens
    figures = efficiency_figures(36.0, tokens=None, responses=4)
    assert figures["wh_per_1000_queries"] == pytest.approx(36.0 / 3600 / 4 * 1000)
    assert figures["j_per_response"] == 9.0
    assert figures["j_per_token"] is None and figures["tokens_per_joule"] is None
    assert figures["reasons"]["tokens_per_joule"] == "the task generates no tokens"
    assert figures["reasons"]["j_per_token"] == "the task generates no tokens"


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"reasoning": True}, "model 'c': reasoning: a thinking mode is text generation's"),
        ({"temperature": 0.7}, "model 'c': temperature: sampling is text generation's"),
        (
            {"backend": "vllm"},
            "model 'c': task 'text_classification' does not run on backend "
            "'vllm' (backends that run it: pytorch)",
        ),
        (
            {"tiny": {"hidden_size": 64}},
            "model 'c': tiny.labels: a tiny text_classification model is a sequence classifier",
        ),
        (
            {"task": "text_generation", "tiny": TINY_CLASSIFIER},
            "model 'c': tiny.labels: builds a sequence classifier, which text_generation cannot run",
        ),
    ],
)
def test_settings_a_classifier_cannot_run_are_refused_naming_model_and_field(entry, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_run_configs({"c": classification(**entry)})
