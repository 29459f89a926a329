"""Settings a campaign gives once for every model, as AI Energy Score's runner takes them as
flags: one endpoint for every selected model (its --endpoint), the number of prompts (-n) and
a prompts file (--prompts-file)."""

import json

import pytest

from energybench.plan.campaign_record import described, record_campaign, recorded_campaign
from energybench.plan.campaign_settings import apply_campaign_settings
from energybench.run.errors import ConfigError

from conftest import copy_workflow
from fake_openai_server import FakeOpenAIServer
from test_workflow import snakemake

MODEL = "tiny-llama-2l"
URL = "http://gpu-host:8000/v1"


def test_nothing_given_changes_nothing():
    entry = {"backend": "pytorch", "num_prompts": 8, "dataset": "data/prompts.jsonl"}
    assert apply_campaign_settings(entry, {"num_prompts": None, "endpoint": None}) == entry


def test_an_endpoint_makes_every_model_a_model_of_that_server():
    pytorch = {"backend": "pytorch", "num_prompts": 8}
    assert apply_campaign_settings(pytorch, {"endpoint": URL}) == {
        "backend": "vllm",
        "num_prompts": 8,
        "vllm": {"mode": "external", "endpoint": URL},
    }
    # under the preset on a GPU machine it holds no GPU: the server's are not the run's
    entry = {"backend": "pytorch", "gpus": "auto", "device": "auto", "reasoning": False}
    preset = apply_campaign_settings(entry, {"endpoint": URL, "preset": "aes", "node_gpus": 8})
    assert (preset["backend"], preset["gpus"]) == ("vllm", "auto")
    managed = {
        "backend": "vllm",
        "vllm": {
            "mode": "managed",
            "tensor_parallel_size": 2,
            "extra_args": ["--enforce-eager"],
            "concurrency": 4,
            "api": "chat",
        },
    }
    # the load stays the entry's; a managed server's own settings go with the server
    assert apply_campaign_settings(managed, {"endpoint": URL})["vllm"] == {
        "concurrency": 4,
        "api": "chat",
        "mode": "external",
        "endpoint": URL,
    }


def test_a_bad_endpoint_is_refused_without_repeating_it(tmp_path):
    workdir = copy_workflow(tmp_path)
    for url, why in [
        ("ftp://host/v1", "the value given is not of the expected form, e.g. http://"),
        ("ftp://user:s3cret@host", "not allowed: credentials in a URL"),
    ]:
        result = snakemake(workdir, "--dry-run", "--config", f"endpoint={url}", check=False)
        assert result.returncode == 1
        assert f"endpoint: {why}" in result.stderr
        assert "s3cret" not in result.stderr + result.stdout


def test_the_record_serves_a_command_that_states_no_campaign_setting(tmp_path):
    config = {
        "preset": "aes",
        "select": {"class": "B"},
        "endpoint": URL,
        "defaults": {"batch_size": 4},
    }
    assert recorded_campaign(tmp_path, set()) is None  # no campaign yet
    record_campaign(tmp_path, config)
    recorded = {"preset": "aes", "select": {"class": "B"}, "endpoint": URL}
    assert recorded_campaign(tmp_path, {"defaults", "measurement"}) == recorded
    assert recorded_campaign(tmp_path, {"defaults", "select"}) is None
    assert URL not in described(recorded) and 'preset="aes"' in described(recorded)


@pytest.mark.parametrize("text", ["{not json", '["aes"]', '{"presett": "aes"}'])
def test_a_damaged_record_is_named(tmp_path, text):
    (tmp_path / "campaign.json").write_text(text)
    with pytest.raises(ConfigError, match="campaign.json"):
        recorded_campaign(tmp_path, set())


@pytest.mark.e2e
def test_one_key_sends_every_selected_model_to_the_endpoint(tmp_path):
    workdir = copy_workflow(tmp_path)
    report_path = workdir / f"results/runs/{MODEL}/benchmark_report.json"
    with FakeOpenAIServer(models=(f"resources/models/{MODEL}",)) as server:
        result = snakemake(
            workdir,
            "--config",
            f"endpoint={server.url}",
            "num_prompts=5",
            f'select={{"model": "{MODEL}"}}',
            "--printshellcmds",
            str(report_path.relative_to(workdir)),
        )
        served = len(server.bodies)
    assert "endpoint=1" in result.stderr  # one endpoint slot, as any external model takes
    report = json.loads(report_path.read_text())
    assert report["status"] == "succeeded", report["error"]
    assert report["config"]["backend"] == "vllm"
    assert report["config"]["vllm"] == {"mode": "external", "endpoint": server.url}
    assert report["summary"]["total_prompts"] == 5
    assert served >= 5  # the measured prompts, after the warm-up ones
    gpu = report["energy"]["components"]["gpu"]
    assert report["energy"]["gpu_energy_wh"] is None and gpu["reason"]  # metered as before
