"""`preset=aes` runs each row of AES's real model list as AES's own batch runner does.

The oracle is AES's code, unchanged (tests/data/aes/): its parser reads the list, its
``BatchRunner`` builds the command it would start for each row (the command is caught, not
run), ``run_docker.sh`` adds ``-n`` as ``scenario.num_samples``, and the container's wrapper
(``run_ai_energy_benchmark.py``) turns the command into the settings the run gets. Ours are
the settings the workflow resolves for the same row.
"""

import sys
import types
from pathlib import Path
from unittest import mock

import pytest
import yaml

from energybench.plan.aes_model_list import model_key, read_model_list
from energybench.aes.preset import aes_job_gpus
from energybench.plan.campaign_settings import apply_campaign_settings
from energybench.plan.config import load_yaml, planned_settings, resolve_model

from conftest import REPO_ROOT

AES_DIR = Path(__file__).parents[1] / "data" / "aes"
AES_LIST = AES_DIR / "oct_2025_models.csv"
NODE_GPUS = 8  # what AES's wrapper sees on the node it was written for


class _DictOmegaConf:
    """The two calls AES's wrapper makes on OmegaConf, over plain dicts: loading its YAML and
    setting a dotted key; a value is typed as Hydra types a command-line value."""

    @staticmethod
    def load(path):
        return yaml.safe_load(Path(path).read_text())

    @staticmethod
    def update(config, key, value, merge=True):
        *parents, last = key.split(".")
        for part in parents:
            config = config.setdefault(part, {})
        config[last] = yaml.safe_load(value)


@pytest.fixture(scope="module")
def aes():
    """AES's modules, imported from the vendored copies."""
    sys.path.insert(0, str(AES_DIR))
    sys.modules["omegaconf"] = types.SimpleNamespace(OmegaConf=_DictOmegaConf)
    try:
        import batch_runner
        import model_config_parser
        import run_ai_energy_benchmark

        yield types.SimpleNamespace(
            runner=batch_runner, parser=model_config_parser, wrapper=run_ai_energy_benchmark
        )
    finally:
        del sys.modules["omegaconf"]
        sys.path.remove(str(AES_DIR))


def aes_run_settings(aes, config, tmp_path, num_prompts, prompts_file):
    """The settings AES's container runs for one row, from the command its runner builds."""
    runner = aes.runner.BatchRunner(
        str(AES_LIST), str(tmp_path / "batch"), prompts_file=prompts_file, num_prompts=num_prompts
    )
    started = mock.Mock(return_value=mock.Mock(returncode=1, stdout="", stderr=""))
    with mock.patch.object(aes.runner.subprocess, "run", started):
        runner._run_via_docker(config, tmp_path, mock.Mock())
    command = started.call_args.args[0]
    assert Path(command[0]).name == "run_docker.sh" and command[1] == "-n"
    # run_docker.sh passes its other arguments on and appends -n as scenario.num_samples
    arguments = command[3:] + [f"scenario.num_samples={command[2]}"]
    config_name, overrides = aes.wrapper.parse_hydra_args(arguments)
    base = _DictOmegaConf.load(AES_DIR / f"{config_name}.yaml")
    with mock.patch.object(aes.wrapper, "get_available_gpu_count", return_value=NODE_GPUS):
        settings = aes.wrapper.convert_to_ai_energy_benchmarks_config(base, overrides)
    settings["batch_size"] = base["scenario"]["input_shapes"]["batch_size"]
    settings["arguments"] = arguments
    return settings


def our_settings(entry, key, num_prompts, prompts_file):
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    resolved = resolve_model(key, entry, config["defaults"], config["measurement"])
    campaign = {"preset": "aes", "num_prompts": num_prompts, "prompts_file": prompts_file}
    return planned_settings(apply_campaign_settings(resolved, campaign))


@pytest.mark.parametrize("num_prompts, prompts_file", [(None, None), (3, "prompts.jsonl")])
def test_every_text_gen_row_runs_as_aes_runs_it(aes, tmp_path, num_prompts, prompts_file):
    rows = [c for c in aes.parser.ModelConfigParser(str(AES_LIST)).parse() if c.task == "text_gen"]
    assert len(rows) == 57
    ours = read_model_list(AES_LIST).models
    for row in rows:
        theirs = aes_run_settings(aes, row, tmp_path, num_prompts, prompts_file)
        key = model_key(row.model_id.strip(), row.reasoning_state)
        mine = our_settings(ours[key], key, num_prompts, prompts_file)
        assert {
            "max_new_tokens": mine["max_new_tokens"],
            "min_new_tokens": mine["min_new_tokens"],
            "reasoning": mine["reasoning"],
            "reasoning_params": mine["reasoning_params"],
            "batch_size": mine["batch_size"],
            "dataset": (mine["dataset"], mine["dataset_column"]),
            "num_prompts": mine["num_prompts"],
        } == {
            "max_new_tokens": theirs["generation"]["max_new_tokens"],
            "min_new_tokens": theirs["generation"]["min_new_tokens"],
            "reasoning": theirs["reasoning"]["enabled"],
            "reasoning_params": theirs["reasoning"]["params"] or {},
            "batch_size": theirs["batch_size"],
            "dataset": (theirs["dataset"]["name"], theirs["dataset"]["text_column"]),
            "num_prompts": theirs["dataset"]["num_samples"],
        }, key
        # AES's parser finds prefixes (`<think>`, `/think `) and suffixes, but its runner
        # passes neither to the run: the prompts go as the dataset has them.
        assert not any("prefix" in a or "suffix" in a for a in theirs["arguments"])
        assert "prompt_prefix" not in mine, key


@pytest.mark.parametrize(
    "entry, gpus",
    [
        ({}, NODE_GPUS),  # as AES: every GPU of the node
        ({"gpus": 2}, 2),  # a stated count
        ({"device": "cpu"}, "auto"),  # the CPU asked for: none
    ],
)
def test_device_layout_is_aes_every_gpu_of_the_node(aes, tmp_path, entry, gpus):
    """AES's wrapper spreads a model over every GPU it sees (its device_ids 0..7, cut to those
    present) with device_map auto; the preset gives a pytorch model the node's GPUs, which
    the backend spreads the model over the same way."""
    row = aes.parser.ModelConfigParser(str(AES_LIST)).parse()[0]
    theirs = aes_run_settings(aes, row, tmp_path, None, None)["backend"]
    assert (theirs["device_ids"], theirs["device_map"]) == (list(range(NODE_GPUS)), "auto")
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    key = model_key(row.model_id, row.reasoning_state)
    resolved = resolve_model(
        key,
        {**read_model_list(AES_LIST).models[key], **entry},
        config["defaults"],
        config["measurement"],
    )
    ours = apply_campaign_settings(resolved, {"preset": "aes", "node_gpus": NODE_GPUS})
    assert ours["gpus"] == gpus
    # node_gpus: auto: the settings keep the entry's, and the job takes the machine's GPUs.
    kept = apply_campaign_settings(resolved, {"preset": "aes", "node_gpus": "auto"})
    assert kept["gpus"] == resolved["gpus"]
    assert aes_job_gpus(kept, NODE_GPUS) == (NODE_GPUS if gpus == NODE_GPUS else None)


def test_stated_reasoning_runs_each_rows_stated_intent(aes):
    """aes_reasoning: stated follows the reasoning state; the contradictory row (its cell says
    the model has no thinking mode) still runs as AES runs it."""
    stated = read_model_list(AES_LIST, "stated")
    effective = read_model_list(AES_LIST)
    assert set(stated.models) == set(effective.models) and not stated.problems
    for key, entry in stated.models.items():
        if key == "Qwen--Qwen3-Next-80B-A3B-Instruct--on":
            assert entry["reasoning"] is False
        else:
            assert entry["reasoning"] is entry["reasoning_state"].lower().startswith("on"), key
        assert entry["aes_reasoning"] == "stated"
    differing = {
        key
        for key in effective.models
        if effective.models[key]["reasoning"] != stated.models[key]["reasoning"]
    }
    assert differing == {
        "deepseek-ai--DeepSeek-R1--on",
        "Qwen--Qwen3-Next-80B-A3B-Thinking--on",
        "Qwen--Qwen3-235B-A22B--on",
        "tencent--Hunyuan-1.8B-Instruct--on",
        "nvidia--Llama-3_3-Nemotron-Super-49B-v1_5--on",
        "google--gemma-3-270m-it--on",
        "google--gemma-3-1b-it--on",
        "google--gemma-3-12b-it--on",
        "google--gemma-3-27b-it--on",
    }
    # each such row, and the contradictory one, is said when the list is read
    said = {notice.row for notice in effective.notices}
    assert {18, 20, 21, 29, 36, 47, 58, 59, 60, 61} <= said
