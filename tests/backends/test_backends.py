"""The backend registry and what each backend declares to the workflow."""

import re

import pytest

from conftest import REPO_ROOT
from energybench.run.backend_registry import (
    BACKENDS,
    JOB_RESOURCES,
    backend_class,
    job_resources,
    planned_gpus,
)
from energybench.run.backends import Backend, NoGpuVisible, resolve_device
from energybench.run.errors import ConfigError
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import load_yaml, resolve_model
from energybench.job.secrets import HUB_TOKENS, needed_secrets

CONFIG = load_yaml(REPO_ROOT / "config/config.yaml")
EXTERNAL = {"mode": "external", "endpoint": "http://h:8000/v1", "api_key_env": "SERVER_KEY"}


def run_config(**entry):
    return resolve_model(
        "m", {"id": "org/model", **entry}, CONFIG["defaults"], CONFIG["measurement"]
    )


def test_every_backend_in_the_registry_is_a_backend_of_its_name_and_in_the_schema():
    schema = load_yaml(REPO_ROOT / "src/energybench/run/schemas/model_settings.schema.json")
    assert set(BACKENDS) == set(schema["properties"]["backend"]["enum"])
    for name in BACKENDS:
        cls = backend_class(name)
        assert issubclass(cls, Backend) and cls.name == name


def test_an_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'; known: pytorch, vllm"):
        backend_class("tensorrt")


def test_a_backend_must_implement_a_run():
    class Half(Backend):
        name = "half"

        def __init__(self, cfg, run_dir):
            pass

    with pytest.raises(TypeError, match="abstract"):
        Half(None, None)


def test_job_resources_are_the_gpus_plus_what_the_backend_declares():
    for has_gpus in (False, True):
        assert job_resources(run_config(gpus=1), has_gpus) == {"gpu": 1, "endpoint": 0}
        assert job_resources(run_config(backend="vllm", vllm=EXTERNAL, gpus="auto"), has_gpus) == {
            "gpu": 0,
            "endpoint": 1,
        }
        assert set(job_resources(run_config(), has_gpus)) == set(JOB_RESOURCES)


@pytest.mark.parametrize(
    "settings, without_gpus, with_gpus",
    [
        ({}, 0, 1),  # a model that names nothing gets a GPU where there are GPUs
        ({"device": "cpu"}, 0, 0),  # unless it asks for the CPU
        ({"device": "cuda"}, 0, 1),
        ({"gpus": 0}, 0, 0),
        ({"gpus": 2}, 2, 2),  # an explicit count is the count, everywhere
        ({"backend": "vllm"}, 0, 1),
        ({"backend": "vllm", "vllm": {"tensor_parallel_size": 4}}, 0, 4),
        ({"backend": "vllm", "vllm": EXTERNAL}, 0, 0),  # the load goes elsewhere
    ],
)
def test_gpus_auto_takes_what_the_backend_needs_where_there_are_gpus(
    settings, without_gpus, with_gpus
):
    cfg = run_config(**{"gpus": "auto", **settings})
    assert planned_gpus(cfg, machine_has_gpus=False) == without_gpus
    assert planned_gpus(cfg, machine_has_gpus=True) == with_gpus


def test_a_run_that_should_use_cuda_but_sees_none_fails_never_falls_back_to_the_cpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the failure it tests cannot happen here")
    assert resolve_device("auto", 0) == "cpu"  # the job holds no GPU
    assert resolve_device("auto", None) == "cpu"  # by hand, on a machine without CUDA
    assert resolve_device("cpu", 1) == "cpu"
    with pytest.raises(NoGpuVisible, match="job holds 1 GPU.*torch sees no CUDA device"):
        resolve_device("auto", 1)
    with pytest.raises(NoGpuVisible, match="device is 'cuda'"):
        resolve_device("cuda", None)


def test_each_backend_parses_its_own_block_once_into_the_run_config():
    from energybench.run.backends.vllm.settings import VLLMSettings
    from energybench.run.settings import RunConfig

    assert RunConfig.from_dict(run_config()).backend_settings is None  # pytorch has no block
    vllm = RunConfig.from_dict(run_config(backend="vllm", vllm=EXTERNAL)).backend_settings
    assert vllm == VLLMSettings(
        mode="external",
        endpoint="http://h:8000/v1",
        api_key_env="SERVER_KEY",
        served_model_name="org/model",
    )
    with pytest.raises(ConfigError, match="run config field 'backend': unknown backend 'tensorrt'"):
        RunConfig.from_dict(run_config(backend="tensorrt"))


def test_secrets_are_handed_over_by_name_as_the_backend_declares():
    assert needed_secrets(run_config()) == HUB_TOKENS
    assert needed_secrets(run_config(backend="vllm", vllm=EXTERNAL)) == (*HUB_TOKENS, "SERVER_KEY")
    # The setting naming a secret's variable is one where a pasted key is never echoed.
    from energybench.run.schema import model_setting_schema

    declared = backend_class("vllm").secrets(run_config(backend="vllm", vllm=EXTERNAL))
    assert [model_setting_schema(s).get("x-never-echo") for s in declared.values()] == [True]


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"backend": "vllm", "runtime": "docker"},
            "model 'm': a managed vLLM server runs as a process beside the run; runtime 'docker'",
        ),
        ({"device": "cuda"}, "model 'm': device 'cuda' needs gpus >= 1"),
    ],
)
def test_contradicting_settings_are_refused_naming_the_model(entry, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_run_configs({"m": run_config(**entry)})


def test_outside_the_backends_nothing_names_a_backend():
    """The workflow, the job layer, the isolation layer and the config checks ask the
    registry; a new backend is a change inside energybench/run/backends (and the schema)."""
    paths = [
        REPO_ROOT / "Snakefile",
        *sorted((REPO_ROOT / "rules").glob("*.smk")),
        *(
            REPO_ROOT / "src/energybench" / name
            for name in (
                "job/model_job.py",
                "plan/config.py",
                "plan/consistency.py",
                "job/secrets.py",
                "run/benchmark.py",
                "run/settings.py",
                "run/schema.py",
            )
        ),
        *sorted((REPO_ROOT / "src/energybench/job/isolation").glob("*.py")),
    ]
    for path in paths:
        named = re.findall(r"\bvllm\b|[\"']pytorch[\"']", path.read_text(), flags=re.IGNORECASE)
        assert not named, f"{path.relative_to(REPO_ROOT)} names a backend: {named}"


def test_a_model_found_nowhere_names_its_id_and_how_it_was_read(tmp_path, monkeypatch):
    from energybench.run.backends.pytorch import PyTorchBackend
    from energybench.run.settings import RunConfig

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here; offline, the cache decides
    # The Hub library reads the variable once, when first imported (by an earlier test, in a
    # suite): without this a worker that imported it online waits out network timeouts.
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    (tmp_path / "p7models/m").mkdir(parents=True)  # the directory meant
    cfg = run_config(
        id="p7modles/m",
        dataset=str(REPO_ROOT / "data/prompts.jsonl"),
        device="cpu",
        num_prompts=1,
        warmup_prompts=0,
    )
    with pytest.raises(ConfigError) as error:
        PyTorchBackend(RunConfig.from_dict(cfg))
    message = str(error.value)
    assert message.startswith(
        "model id 'p7modles/m' cannot be loaded: it was read as a Hugging "
        f"Face Hub id, since nothing of that name exists in {tmp_path}"
    )
    assert "(e.g. ./p7modles/m)" in message and "\n" not in message


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


@pytest.mark.parametrize("overflow", [None, "refuse", "truncate"])
def test_a_prompt_longer_than_the_context_is_refused_or_truncated_and_counted(
    tmp_path, tiny_model, overflow
):
    from energybench.run.backends.pytorch import PyTorchBackend
    from energybench.run.settings import RunConfig

    dataset = tmp_path / "p.jsonl"
    long_prompt = " ".join(["energy"] * 3000)  # past the tiny model's 1,024 positions
    dataset.write_text(f'{{"text": "short"}}\n{{"text": "{long_prompt}"}}\n')
    settings = {
        "id": str(tiny_model),
        "dataset": str(dataset),
        "device": "cpu",
        "num_prompts": 2,
        "warmup_prompts": 0,
        "max_new_tokens": 4,
        "batch_size": 2,
    }
    if overflow:
        settings["prompt_overflow"] = overflow
    cfg = RunConfig.from_dict(run_config(**settings))
    if overflow != "truncate":
        with pytest.raises(
            ConfigError,
            match=r"1 prompt\(s\) are longer than the model's "
            r"context allows: its 1024 tokens less "
            r"max_new_tokens \(4\) leave 1020 .*prompt 2: ",
        ):
            PyTorchBackend(cfg)
        return
    backend = PyTorchBackend(cfg)
    assert backend.info()["prompts_truncated"] == 1
    assert backend.info()["prompt_tokens_kept"] == 1020
    timing = backend._generate(backend.texts, 4, 4)
    assert timing.prompt_tokens <= 2 * 1020 and timing.completion_tokens == 8
