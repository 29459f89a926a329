"""Secrets reach the runs that need them, and nothing else: no command line, no container
configuration, no report, log or workflow file."""

import json
import stat
import uuid

import pytest

from energybench.job.secrets import (
    DECLARED_SECRETS_ENV,
    SECRETS_FILE_ENV,
    declared_secrets_environment,
    load_secrets_file,
    looks_secret,
    needed_secrets,
    secrets_file,
    withheld_secrets,
)

TOKEN = f"hf_planted_{uuid.uuid4().hex}"


def cfg(**settings):
    return {"id": "org/model", "dataset": "data/prompts.jsonl", "backend": "pytorch", **settings}


@pytest.mark.parametrize(
    "settings, names",
    [
        ({"tiny": {}, "id": "resources/models/t"}, ()),
        ({"id": "./local-model"}, ()),
        ({}, ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")),
        (
            {"id": "./local-model", "dataset": "org/prompt-set"},
            ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
        ),
        (
            {"id": "./m", "backend": "vllm", "vllm": {"mode": "external", "api_key_env": "MY_KEY"}},
            ("MY_KEY",),
        ),
    ],
)
def test_only_runs_that_need_a_secret_get_it(settings, names):
    assert needed_secrets(cfg(**settings)) == names


def test_secrets_file_is_private_and_removed_whatever_happens():
    environ = {"HF_TOKEN": TOKEN, "OTHER": "x"}
    with pytest.raises(RuntimeError):
        with secrets_file(("HF_TOKEN", "UNSET"), environ) as path:
            assert json.loads(path.read_text()) == {"HF_TOKEN": TOKEN}
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            raise RuntimeError("the run failed")
    assert not path.parent.exists()
    with secrets_file(("UNSET",), environ) as nothing:
        assert nothing is None


def test_the_run_loads_and_deletes_the_file():
    with secrets_file(("HF_TOKEN",), {"HF_TOKEN": TOKEN}) as path:
        environ = {SECRETS_FILE_ENV: str(path)}
        assert load_secrets_file(environ) == ["HF_TOKEN"]
        assert environ == {"HF_TOKEN": TOKEN} and not path.exists()
    assert load_secrets_file({}) == []
    assert load_secrets_file({SECRETS_FILE_ENV: str(path)}) == []  # already gone: no traceback


@pytest.mark.parametrize(
    "name, value",
    [
        ("OPENAI_API_KEY", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_SESSION_TOKEN", "x"),
        ("GITHUB_TOKEN", "x"),
        ("PGPASSWORD", "x"),
        ("DOCKER_AUTH_CONFIG", "x"),
        ("my_apikey", "x"),
        ("HF_TOKEN_PATH", "x"),
        ("DATABASE_URL", "postgres://user:pass@db/x"),
        ("MYSQL_ROOT_PASSWORD_FILE", "x"),
        ("DBPASSWORD", "x"),
        ("GITHUB_AUTHORIZATION", "x"),
        ("CLIENTSECRETS", "x"),
        ("SLACK_BEARER", "x"),
        ("NPM_CREDS", "x"),
    ],
)
def test_variables_that_look_secret(name, value):
    assert looks_secret(name, value)


@pytest.mark.parametrize(
    "name, value",
    [
        ("PATH", "/bin"),
        ("PWD", "/work"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1"),
        ("HTTPS_PROXY", "http://user:pass@proxy:3128"),
        ("MONITOR_URL", "http://host:9000/metrics"),
        ("PYTHONPATH", "/src"),
        ("LD_LIBRARY_PATH", "/lib"),
        ("CUDA_VISIBLE_DEVICES", "0"),
        ("SLURM_JOB_ID", "7"),
    ],
)
def test_variables_that_do_not(name, value):
    assert not looks_secret(name, value)


def test_a_run_is_withheld_every_secret_but_its_own(three_models_secrets):
    import os

    for model, (run_config, _) in three_models_secrets.items():
        withheld = set(withheld_secrets(run_config, os.environ))
        needed = set(needed_secrets(run_config))
        everything = {
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "ENDPOINT_A_CRED",
            "VLLM_API_KEY",
            "OPENAI_API_KEY",
        }
        assert withheld == everything - needed, model


def test_the_workflow_names_every_declared_secret():
    endpoint = cfg(backend="vllm", vllm={"mode": "external", "api_key_env": "A_CRED"})
    assert declared_secrets_environment([endpoint, cfg()]) == {DECLARED_SECRETS_ENV: "A_CRED"}


@pytest.mark.parametrize(
    "settings, environ, access",
    [
        ({"tiny": {}, "id": "resources/models/t"}, {}, "none"),
        ({"id": "./local-model"}, {"HF_HUB_OFFLINE": "1"}, "none"),
        ({}, {}, "write"),
        ({}, {"HF_HUB_OFFLINE": "1"}, "read"),
        ({"id": "./local-model", "dataset": "org/prompt-set"}, {"HF_HUB_OFFLINE": "true"}, "read"),
    ],
)
def test_a_run_gets_as_much_of_the_hub_cache_as_it_needs(settings, environ, access):
    from energybench.job.model_job import hub_cache_access

    assert hub_cache_access(cfg(**settings), environ) == access


def test_the_job_hands_each_run_its_own_secrets_and_withholds_the_rest(
    tmp_path, monkeypatch, three_models_secrets
):
    import os

    from conftest import REPO_ROOT

    from energybench.job import model_job
    from energybench.plan.config import load_yaml, resolve_model
    from energybench.job.isolation import LaunchError

    config = load_yaml(REPO_ROOT / "config/config.yaml")
    specs = {}

    def prepare(spec):
        specs[spec.model_key] = spec
        raise LaunchError("stopped here", model_key=spec.model_key, cause="exit_nonzero")

    monkeypatch.setattr(model_job, "prepare", prepare)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for model, (entry, own) in three_models_secrets.items():
        run_config = resolve_model(model, entry, config["defaults"], config["measurement"])
        model_job.run_model_job(
            run_config, f"results/runs/{model}/benchmark_report.json", f"logs/{model}.log", gpus=0
        )
        spec = specs[model]
        given = {name for name in spec.secret_names if os.environ.get(name) == own}
        assert given and not given & set(spec.withheld_secrets), model
        others = {
            name
            for name in ("HF_TOKEN", "ENDPOINT_A_CRED", "VLLM_API_KEY", "OPENAI_API_KEY")
            if name not in given
        }
        assert others <= set(spec.withheld_secrets), model
        # Only the Hub model reaches the Hub cache (to download: the workflow is online).
        assert spec.hub_cache == ("write" if model == "hub-model" else "none"), model
