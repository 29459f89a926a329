"""Weight quantization at load (the `quantization` setting): tiny quantized and unquantized
twins of one checkpoint, what the report and the names say of each, and the settings refused
before any job runs."""

import json
import re
import shutil
from importlib import metadata

import pytest

from conftest import REPO_ROOT
from energybench.aes.identity import model_name
from energybench.run.errors import ConfigError
from energybench.run.settings import RunConfig
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import resolve_model
from energybench.plan.config import check_models_document, load_yaml
from energybench.run.schema import model_setting_schema
from energybench.run.quantization import BITS
from test_backends import CONFIG, run_config

MODELS_SCHEMA = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")
INT8 = {"method": "quanto", "weights": "int8"}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from energybench.job.tiny import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model",
        hidden_size=64,
        num_layers=1,
        num_heads=1,
        vocab_size=300,
    )


def twin(tiny_model, key, **entry):
    """One of two models of one checkpoint, told apart by their keys and settings."""
    entry = {
        "id": str(tiny_model),
        "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
        "device": "cpu",
        "num_prompts": 2,
        "warmup_prompts": 0,
        "max_new_tokens": 4,
        "batch_size": 2,
        **entry,
    }
    return resolve_model(key, entry, CONFIG["defaults"], CONFIG["measurement"])


def test_quantized_and_unquantized_twins_differ_in_weights_report_and_name(tiny_model):
    import torch
    from optimum.quanto import QLinear

    from energybench.run.backends.pytorch import PyTorchBackend

    original = PyTorchBackend(RunConfig.from_dict(twin(tiny_model, "tiny")))
    quantized_cfg = twin(tiny_model, "tiny-int8", quantization=INT8)
    quantized = PyTorchBackend(RunConfig.from_dict(quantized_cfg))

    projection = quantized.model.model.layers[0].self_attn.q_proj
    assert isinstance(projection, QLinear)
    assert not isinstance(original.model.model.layers[0].self_attn.q_proj, QLinear)
    # The same checkpoint, rounded to 8 bits: close to the original weights, not equal.
    before = original.model.model.layers[0].self_attn.q_proj.weight
    after = projection.qweight.dequantize()
    assert not torch.equal(before, after)
    assert torch.allclose(before, after, atol=float(before.detach().abs().max()) / 100)

    assert original.info()["quantization"] is None
    assert quantized.info()["quantization"] == {
        "scheme": "quanto-int8",
        "method": "quanto",
        "weights": "int8",
        "bits": 8,
        "activations": "unquantized (the model's dtype)",
        "library": "optimum-quanto",
        "version": metadata.version("optimum-quanto"),
    }
    for backend in (original, quantized):
        assert backend._generate(backend.texts, 4, 4).completion_tokens == 8

    # Names: the quantized twin is never its original, in AES's table or ours.
    assert model_name(twin(tiny_model, "tiny"), "tiny") == "tiny"
    assert model_name(quantized_cfg, "tiny-int8") == "tiny-int8 [quanto-int8]"
    hub = run_config(quantization={"method": "quanto", "weights": "int4"})
    assert model_name(hub, "m") == "org/model [quanto-int4]"
    assert RunConfig.from_dict(quantized_cfg).to_dict()["quantization"] == INT8


def test_no_quantization_changes_no_digest_of_the_settings_before_it():
    plain = RunConfig.from_dict(run_config()).digest()
    assert RunConfig.from_dict(run_config(quantization=None)).digest() == plain
    assert RunConfig.from_dict(run_config(quantization=INT8)).digest() != plain


def test_the_schema_offers_exactly_the_weight_types_the_code_knows():
    assert model_setting_schema("quantization.weights")["enum"] == list(BITS)


@pytest.mark.parametrize(
    "quantization, message",
    [
        (
            {"method": "quanto", "weights": "int3"},
            "model 'm', field 'quantization.weights': 'int3' is not one of ['int8', 'int4']",
        ),
        (
            {"method": "bitsandbytes", "weights": "int8"},
            "model 'm', field 'quantization.method': 'bitsandbytes' is not one of ['quanto']",
        ),
        ({"method": "quanto"}, "model 'm', field 'quantization': 'weights' is a required property"),
    ],
)
def test_an_unsupported_scheme_is_refused_naming_model_and_field(quantization, message):
    document = {"models": {"m": {"id": "a/b", "quantization": quantization}}}
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_models_document(document, MODELS_SCHEMA, "models.yaml")


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"backend": "vllm"},
            "model 'm': quantization: the vllm backend does not quantize weights as it loads them",
        ),
        (
            {
                "runtime": "docker",
                "device": "cpu",
                "quantization": {"method": "quanto", "weights": "int4"},
            },
            "model 'm': quantization.weights 'int4' on the CPU in the CPU image the workflow builds: "
            "optimum-quanto compiles its CPU kernel for it with a C++ compiler",
        ),
    ],
)
def test_quantization_a_backend_or_device_cannot_apply_is_refused_before_any_job(
    entry, message, monkeypatch
):
    monkeypatch.delenv("DOCKER_IMAGE", raising=False)
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_run_configs({"m": run_config(**{"quantization": INT8, **entry})})


def test_int8_in_the_cpu_image_and_int4_in_a_process_are_accepted(monkeypatch):
    monkeypatch.delenv("DOCKER_IMAGE", raising=False)
    check_run_configs(
        {
            "m": run_config(runtime="docker", device="cpu", quantization=INT8),
            "n": {
                **run_config(
                    runtime="process",
                    device="cpu",
                    quantization={"method": "quanto", "weights": "int4"},
                ),
                "model": "n",
            },
        }
    )


@pytest.fixture
def quantized_checkpoint(tiny_model, tmp_path):
    """A copy of the tiny checkpoint whose config says its weights are quantized already."""
    checkpoint = shutil.copytree(tiny_model, tmp_path / "quantized")
    config = json.loads((checkpoint / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "quanto", "weights": "int8"}
    (checkpoint / "config.json").write_text(json.dumps(config))
    return checkpoint


def test_a_checkpoint_already_quantized_is_refused_by_the_plan_and_by_the_run(quantized_checkpoint):
    from energybench.run.backends.pytorch import PyTorchBackend

    cfg = twin(quantized_checkpoint, "m", quantization=INT8)
    why = (
        "quantization: the checkpoint is already quantized (its config.json has a "
        "quantization_config, quant_method 'quanto')"
    )
    with pytest.raises(ConfigError, match=re.escape(f"model 'm': {why}")):
        check_run_configs({"m": cfg})
    # A run config that never went through the plan (written by hand) fails at load.
    with pytest.raises(ConfigError, match=re.escape(why)):
        PyTorchBackend(RunConfig.from_dict(cfg))
