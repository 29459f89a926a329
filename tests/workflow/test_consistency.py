"""Settings that contradict each other or the files they name are refused before any run."""

import pytest

from conftest import REPO_ROOT
from energybench.run.errors import ConfigError
from energybench.run.schema import check_document
from energybench.plan.config import check_models_document, load_yaml
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import resolve_model
from energybench.run.prompts import check_prompt_counts

MODELS_SCHEMA = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")
CONFIG = load_yaml(REPO_ROOT / "config/config.yaml")
DEFAULTS = CONFIG["defaults"]
MEASUREMENT = CONFIG["measurement"]
VLLM = {"backend": "vllm", "vllm": {"mode": "managed"}}


def refused(entry, pattern, key="m"):
    cfg = resolve_model(key, {"id": "org/model", **entry}, DEFAULTS, MEASUREMENT)
    with pytest.raises(ConfigError, match=pattern) as error:
        check_run_configs({key: cfg})
    assert str(error.value).startswith(f"model {key!r}: ")
    return str(error.value)


def accepted(entry):
    check_run_configs(
        {"m": resolve_model("m", {"id": "org/model", **entry}, DEFAULTS, MEASUREMENT)}
    )


def test_id_and_tiny_together_are_refused_naming_both():
    doc = {"models": {"m": {"id": "org/model", "tiny": {"hidden_size": 64}}}}
    with pytest.raises(
        ConfigError,
        match=r"model 'm', field '\(entry\)': give exactly one of: "
        r"`id` .* or `tiny`",
    ):
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")


def test_minimum_output_length_above_the_maximum():
    refused(
        {"min_new_tokens": 20, "max_new_tokens": 10},
        r"min_new_tokens \(20\) is above max_new_tokens \(10\)",
    )
    accepted({"min_new_tokens": 10, "max_new_tokens": 10})


def test_tensor_parallelism_needs_the_gpus():
    refused(
        {**VLLM, "vllm": {"tensor_parallel_size": 4}, "gpus": 2, "device": "cuda"},
        r"tensor_parallel_size \(4\) needs that many GPUs but gpus is 2",
    )
    refused({**VLLM, "vllm": {"tensor_parallel_size": 2}}, r"but gpus is 0 .*; set gpus: 2")
    accepted({**VLLM, "vllm": {"tensor_parallel_size": 2}, "gpus": 2})


@pytest.mark.parametrize(
    "entry, pattern",
    [
        ({"runtime": "apptainer"}, r"runtime 'apptainer' needs `image`"),
        (
            {"runtime": "docker", "gpus": 1},
            r"runtime 'docker' with gpus: 1 needs `image` with CUDA",
        ),
        ({"runtime": "podman", "gpus": 1}, r"runtime 'podman' with gpus: 1 needs `image`"),
    ],
)
def test_runtime_that_needs_an_image(entry, pattern, monkeypatch):
    monkeypatch.delenv("DOCKER_IMAGE", raising=False)
    refused(entry, pattern)
    accepted({**entry, "image": "org/energybench:cuda"})


def test_api_key_pasted_as_the_variable_name_is_never_echoed(monkeypatch):
    key = "sk_live_4f9a8b7c6d5e"  # a valid variable name, but no such variable is set
    entry = {
        "backend": "vllm",
        "vllm": {"mode": "external", "endpoint": "http://h:8000/v1", "api_key_env": key},
    }
    message = refused(entry, "NAME of the variable holding the key")
    assert key not in message
    doc = {
        "models": {
            "m": {
                "id": "o/m",
                "backend": "vllm",
                "vllm": {
                    "mode": "external",
                    "endpoint": "http://h:8000/v1",
                    "api_key_env": "sk-live-4f9a8b",
                },
            }
        }
    }
    with pytest.raises(ConfigError, match="e.g. VLLM_API_KEY") as error:
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    assert "4f9a8b" not in str(error.value)
    for vllm in (
        {"mode": "external", "endpoint": "http://h/v1", "api_key_env": 41798235},
        {"mode": "managed", "api_key_env": "sk-live-4f9a8b"},
    ):
        for bad in (
            {"id": "o/m", "backend": "vllm", "vllm": vllm},  # the field is wrong
            {"backend": "vllm", "vllm": vllm},
        ):  # the entry is: no id
            with pytest.raises(ConfigError) as error:
                check_models_document({"models": {"m": bad}}, MODELS_SCHEMA, "models.yaml")
            assert "41798235" not in str(error.value) and "4f9a8b" not in str(error.value)
    monkeypatch.setenv("EB_TEST_KEY", "value")
    accepted({**entry, "vllm": {**entry["vllm"], "api_key_env": "EB_TEST_KEY"}})


PASS = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "endpoint",
    [
        f"http://user:{PASS}@gpu:8000/v1",
        f"https://{PASS}@gpu/v1",
        f"http://:{PASS}@gpu/v1",
        f"http://user:{PASS}@[::1]:8000/v1",
        f"http://gpu:8000/v1?api_key={PASS}",
        f"http://gpu/v1/?token={PASS}&x=1",
        f"http://gpu/v1#Authorization=Bearer%20{PASS}",
        f"https://u%40x:{PASS}@gpu/v1",
    ],
)
def test_credentials_in_an_endpoint_url_are_refused_without_being_repeated(endpoint):
    doc = {
        "models": {
            "m": {
                "id": "o/m",
                "backend": "vllm",
                "vllm": {"mode": "external", "endpoint": endpoint, "api_key_env": "VLLM_API_KEY"},
            }
        }
    }
    expected = (
        r"model 'm', field 'vllm.endpoint': not allowed: credentials in (a|the "
        r"endpoint) URL .*api_key_env"
    )
    with pytest.raises(ConfigError, match=expected) as error:
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    assert PASS not in str(error.value) and "Pa55" not in str(error.value)


@pytest.mark.parametrize(
    "field, value",
    [
        ("dataset", f"https://user:{PASS}@data.example.org/prompts.jsonl"),
        ("dataset", f"https://data.example.org/prompts.jsonl?token={PASS}"),
        ("id", f"https://{PASS}@huggingface.co/org/model"),
        ("image", f"registry.example.org/x?access_token={PASS}"),
        ("reasoning_params", {"note": f"see http://admin:{PASS}@wiki/page"}),
    ],
)
def test_credentials_in_any_url_of_the_settings_are_refused_without_being_repeated(field, value):
    doc = {"models": {"m": {"id": "o/m", field: value}}}
    with pytest.raises(ConfigError, match=r"not allowed: credentials in a URL") as error:
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")
    assert PASS not in str(error.value) and "Pa55" not in str(error.value)
    config = {**CONFIG, "defaults": {**DEFAULTS, field: value}}
    with pytest.raises(ConfigError, match=rf"defaults\.{field}.*credentials in a URL") as error:
        check_document(
            config, load_yaml(REPO_ROOT / "config/schemas/config.schema.yaml"), "config/config.yaml"
        )
    assert PASS not in str(error.value)


def test_a_plain_endpoint_url_is_accepted():
    for endpoint in ("http://gpu:8000/v1", "https://api.example.org/proxy/v1/", "http://[::1]:80"):
        doc = {
            "models": {
                "m": {
                    "id": "o/m",
                    "backend": "vllm",
                    "vllm": {"mode": "external", "endpoint": endpoint},
                }
            }
        }
        check_models_document(doc, MODELS_SCHEMA, "models.yaml")


def test_every_secret_a_backend_declares_must_be_set(monkeypatch):
    """The check is the workflow's, over the secrets each backend declares: a backend that
    declares one (here pytorch, standing in, with any of its settings) needs no check of its
    own, and the variable's name is never echoed."""
    from energybench.run.backends.pytorch import PyTorchBackend

    monkeypatch.setattr(
        PyTorchBackend, "secrets", classmethod(lambda cls, cfg: {"EB_TEST_TOKEN": "dataset"})
    )
    monkeypatch.delenv("EB_TEST_TOKEN", raising=False)
    message = refused(
        {},
        "dataset names an environment variable that is not set here; it must "
        "be the NAME of the variable holding the key, exported before",
    )
    assert "EB_TEST_TOKEN" not in message
    monkeypatch.setenv("EB_TEST_TOKEN", "value")
    accepted({})


@pytest.mark.parametrize(
    "name", ["prompts.txt", "prompts.tsv", "prompts.xlsx", "p.jsonl.gz", "data/prompts"]
)
def test_dataset_the_loader_cannot_read(tmp_path, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    if name != "data/prompts":
        path.write_text("a prompt\n")
    else:
        path.mkdir()
    refused({"dataset": str(path)}, r"dataset .*(the loader reads \.jsonl|is a directory)")


def test_local_dataset_without_the_column_or_with_a_null_prompt(tmp_path):
    """Counts: tests/backends/test_prompts.py (check_prompt_counts, called beside this check)."""
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "a"}\n' * 5)

    def cfg(**entry):
        return resolve_model(
            "m", {"id": "org/model", "dataset": str(path), **entry}, DEFAULTS, MEASUREMENT
        )

    with pytest.raises(ConfigError, match=r"no column 'text' \(columns: prompt\)"):
        check_prompt_counts({"m": cfg()})
    path.write_text('{"text": "a"}\n{"text": null}\n{"text": "b"}\n')
    with pytest.raises(
        ConfigError,
        match=r"^model 'm': dataset .*, column 'text': every prompt "
        r"must be non-empty text; row 2: null$",
    ):
        check_prompt_counts({"m": cfg(num_prompts=2, warmup_prompts=0)})
    check_prompt_counts({"m": cfg(num_prompts=1, warmup_prompts=0)})  # row 2 unused


def test_problems_of_several_models_are_reported_together():
    table = {
        key: resolve_model(key, {"id": "org/model", "min_new_tokens": 99}, DEFAULTS, MEASUREMENT)
        for key in ("a", "b")
    }
    with pytest.raises(ConfigError, match=r"model 'a': min_new_tokens.*; model 'b': min_new"):
        check_run_configs(table)


def test_local_model_under_the_tiny_models_directory_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resources/models/mine").mkdir(parents=True)
    (tmp_path / "models/mine").mkdir(parents=True)
    dataset = str(REPO_ROOT / "data/prompts.jsonl")
    refused(
        {"id": "resources/models/mine", "dataset": dataset},
        r"id 'resources/models/mine' lies under resources/models/, where the workflow builds",
    )
    accepted({"id": "models/mine", "dataset": dataset})


@pytest.mark.parametrize("name", ['say "hi".jsonl', "a,b.jsonl", "a:b.jsonl"])
@pytest.mark.parametrize("runtime", ["docker", "podman", "apptainer"])
def test_a_dataset_path_a_container_cannot_mount_is_refused_when_planned(
    tmp_path, name, runtime, monkeypatch
):
    monkeypatch.setenv("DOCKER_IMAGE", "energybench:cpu")
    dataset = tmp_path / name
    dataset.write_text('{"text": "a prompt"}\n')
    refused(
        {"dataset": str(dataset), "runtime": runtime},
        rf"runtime '{runtime}': cannot mount .* not supported by the mount syntax",
    )
    accepted({"dataset": str(dataset), "runtime": "process", "num_prompts": 1, "warmup_prompts": 0})


def test_a_cpu_model_in_the_cpu_image_needs_no_cuda_image(monkeypatch):
    monkeypatch.delenv("DOCKER_IMAGE", raising=False)
    accepted({"runtime": "docker", "device": "cpu", "gpus": "auto"})


def test_a_hub_id_that_looks_like_a_local_path_gets_a_note(tmp_path, monkeypatch):
    from energybench.plan.consistency import hub_id_notes

    monkeypatch.chdir(tmp_path)
    (tmp_path / "p7models" / "m").mkdir(parents=True)

    def cfg(model_id):
        return resolve_model("k", {"id": model_id}, DEFAULTS, MEASUREMENT)

    (note,) = hub_id_notes(
        {
            "typo": cfg("p7modles/m"),
            "fine": cfg("meta-llama/Llama-3.1-8B"),
            "local": cfg("./p7models/m"),
            "exists": cfg("p7models/m"),
        }
    )
    assert note.startswith(
        "model 'typo': id 'p7modles/m' names no local directory, so it is "
        "read as a Hugging Face Hub id; the directory p7models/ is here"
    )
