"""The AI Energy Score contract on the way in: its model lists become model entries, every
unusable row reported; `select` filters as its batch runner does; its protocol preset."""

import contextlib
import io
import sys
from pathlib import Path

import pytest
import yaml

from energybench.plan.aes_model_list import (
    ModelListError,
    models_from_list,
    parse_template,
    read_model_list,
)
from energybench.aes.preset import apply_preset
from energybench.cli import main
from energybench.job.keys import key_problem
from energybench.run.errors import ConfigError
from energybench.plan.config import load_yaml, resolve_model, select_models

from conftest import REPO_ROOT

AES_DIR = Path(__file__).parents[1] / "data" / "aes"
OCT_2025 = AES_DIR / "oct_2025_models.csv"
HEADER = ",Models to Add,Priority (1=hi),Class,Task,Reasoning State,Chat Template\n"


@pytest.fixture(scope="module")
def aes_configs():
    """AES's own parser's reading of its list."""
    sys.path.insert(0, str(AES_DIR))
    try:
        from model_config_parser import ModelConfigParser

        return ModelConfigParser(str(OCT_2025)).parse()
    finally:
        sys.path.remove(str(AES_DIR))


def test_real_list_every_row_imported_image_gen_ones_as_image_generation(aes_configs):
    result = read_model_list(OCT_2025)
    assert not result.problems and len(result.models) == len(aes_configs) == 60
    assert not [n for n in result.notices if n.column == "Task"]
    images = {key: m for key, m in result.models.items() if m["task"] == "image_generation"}
    assert images == {
        key: {
            "id": model_id,
            "task": "image_generation",
            "reasoning": False,
            "reasoning_state": "",
            "priority": 3,
            "aes_reasoning": "effective",
        }
        for key, model_id in (
            ("Qwen--Qwen-Image", "Qwen/Qwen-Image"),
            ("black-forest-labs--FLUX.1-dev", "black-forest-labs/FLUX.1-dev"),
            ("HiDream-ai--HiDream-I1-Full", "HiDream-ai/HiDream-I1-Full"),
        )
    }


def test_real_list_stated_reading_agrees_with_aes_parser(aes_configs):
    """aes_reasoning: stated reads each cell as AES's parser does, in our terms."""
    result = read_model_list(OCT_2025, "stated")
    imported = {(m["id"], m["reasoning_state"]): m for m in result.models.values()}
    for config in aes_configs:
        if config.task != "text_gen" or config.model_id == "Qwen/Qwen3-Next-80B-A3B-Instruct":
            continue
        entry = imported[(config.model_id.strip(), config.reasoning_state)]
        assert entry["class"] == config.model_class and entry["priority"] == config.priority
        params = dict(config.reasoning_params or {})
        if "reasoning" in params:  # AES's generic switch is our `reasoning` flag
            assert params.pop("reasoning") == entry["reasoning"]
        assert entry["reasoning_params"] == params, config.model_id
        if config.model_id == "Qwen/Qwen3-Next-80B-A3B-Thinking":
            # AES prepends <think>; the cell says the model's template already does (docs/aes.md)
            assert config.prompt_prefix == "<think>" and "prompt_prefix" not in entry
        else:
            assert entry.get("prompt_prefix", "") == config.prompt_prefix, config.model_id
    assert not any(key_problem(key) for key in result.models)
    gpt_oss = result.models["openai--gpt-oss-20b--on-high"]
    assert gpt_oss == {
        "id": "openai/gpt-oss-20b",
        "class": "B",
        "task": "text_generation",
        "reasoning": True,
        "reasoning_params": {"reasoning_effort": "high"},
        "reasoning_state": "On (High)",
        "priority": 1,
        "aes_reasoning": "stated",
    }
    assert (
        result.models["swiss-ai--Apertus-8B-Instruct-2509--off"]["id"]
        == "swiss-ai/Apertus-8B-Instruct-2509"
    )  # the URL's trailing space and prefix stripped


def test_imported_entries_are_valid_model_settings():
    """Every imported entry resolves into a valid run config."""
    from energybench.plan.consistency import check_run_configs

    config = load_yaml(REPO_ROOT / "config/config.yaml")
    table = {
        key: resolve_model(key, entry, config["defaults"], config["measurement"])
        for key, entry in read_model_list(OCT_2025).models.items()
    }
    check_run_configs(table)


@pytest.mark.parametrize(
    "cell, reasoning, params, prefix",
    [
        (
            "  reasoning: True\n  reasoning_params:\n    reasoning_effort: low",
            True,
            {"reasoning_effort": "low"},
            "",
        ),
        ("reasoning_effort: high", True, {"reasoning_effort": "high"}, ""),
        ("enable_thinking=False", False, {"enable_thinking": False}, ""),
        ("reasoning: False\n", False, {}, ""),
        ("N/A (default)", None, {}, ""),
        ("", None, {}, ""),
        ("Slow-Thinking Mode (Default): /think before the prompt.", True, {}, "/think "),
        ("Reasoning OFF Mode: /no_think in the system prompt.", False, {}, "/no_think "),
        ("Thinking Mode: Prepend input with <think>.", True, {}, "<think>"),
    ],
)
def test_chat_template_cells(cell, reasoning, params, prefix):
    template = parse_template(cell)
    assert (template.reasoning, template.params, template.prompt_prefix) == (
        reasoning,
        params,
        prefix,
    )


@pytest.mark.parametrize(
    "cell",
    [
        "reasoning: maybe",
        "reasoning_effort: extreme",
        "something: 1",
        "just prose with no directive",
        "[1, 2",
    ],
)
def test_malformed_chat_template_cells(cell):
    with pytest.raises(ValueError):
        parse_template(cell)


def import_aes(tmp_path, text, *args):
    """`energybench import-aes` on ``text``: (exit status, stderr, the output path)."""
    source = tmp_path / "list.csv"
    source.write_bytes(text if isinstance(text, bytes) else text.encode())
    output = tmp_path / "models.yaml"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        status = main(["import-aes", str(source), "-o", str(output), *args])
    return status, stderr.getvalue(), output


GOOD = ",https://huggingface.co/org/good,1,A,text_gen,Off,N/A\n"


@pytest.mark.parametrize(
    "line, row_message",
    [
        (
            ",https://huggingface.co/org/m,1,D,text_gen,Off,N/A\n",
            "row 3, column 'Class', value 'D': unknown class",
        ),
        (
            ',https://huggingface.co/org/m,1,A,text_gen,On,"reasoning: ["\n',
            "row 3, column 'Chat Template', value 'reasoning: [': malformed chat-template cell",
        ),
        (
            ",https://example.com/org/m,1,A,text_gen,Off,N/A\n",
            "row 3, column 'Models to Add', value 'https://example.com/org/m': not a Hugging Face URL",
        ),
        (
            ",https://huggingface.co/datasets/EnergyStarAI,1,A,text_gen,Off,N/A\n",
            "row 3, column 'Models to Add', value 'https://huggingface.co/datasets/EnergyStarAI': a "
            "page of the Hub's datasets, not a model's",
        ),
        (GOOD, "row 3, column 'Reasoning State', value 'Off': duplicate of row 2"),
        (
            ",https://huggingface.co/org/m,high,A,text_gen,Off,N/A\n",
            "row 3, column 'Priority (1=hi)', value 'high': priority must be",
        ),
        (
            f",https://huggingface.co/org/{'m' * 99},1,A,text_gen,Off,N/A\n",
            "row 3, column 'Models to Add', value 'https://huggingface.co/org/mmm",
        ),
        (
            ",https://huggingface.co/org/m,1,A,text_gen,Maybe,N/A\n",
            "row 3, column 'Reasoning State', value 'Maybe'",
        ),
    ],
)
def test_bad_rows_named_and_nothing_written_unless_asked(tmp_path, line, row_message):
    status, stderr, output = import_aes(tmp_path, HEADER + GOOD + line)
    assert status == 2 and row_message in stderr, stderr
    assert not output.exists() and not list(tmp_path.glob(".models.yaml.*"))
    status, stderr, output = import_aes(tmp_path, HEADER + GOOD + line, "--skip-invalid")
    assert status == 0 and row_message in stderr
    assert list(yaml.safe_load(output.read_text())["models"]) == ["org--good--off"]


@pytest.mark.parametrize(
    "text, message",
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary data, not a CSV file"),
        (b"\xff\xfe\xfa garbage", "not UTF-8 text"),
        (
            ",Models to Add,Class,Task,Reasoning State,Chat Template\n,org/m,A,text_gen,Off,N/A\n",
            "missing column(s) Priority (1=hi)",
        ),
        (
            HEADER + ',org/m,1,A,text_gen,Off,"N/A\n,org/n,1,A,text_gen,Off,N/A\n',
            "line 3: not valid CSV (unexpected end of data)",
        ),
        (
            HEADER + ",org/m,1,A,text_gen,Off,N/A,extra cell\n",
            "row 2: 8 cells where the header has 7",
        ),
    ],
)
def test_unreadable_lists_are_one_clear_error(tmp_path, text, message):
    status, stderr, output = import_aes(tmp_path, text)
    assert status == 2 and message in stderr, stderr
    assert not output.exists()


def test_models_csv_in_config_reports_every_bad_row(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(HEADER + GOOD + ",https://huggingface.co/org/m,1,,text_gen,,N/A\n")
    with pytest.raises(ModelListError, match=r"row 3, column 'Class'.*row 3, column 'Reason"):
        models_from_list(path, skip_invalid=False)
    assert list(models_from_list(path, skip_invalid=True)["models"]) == ["org--good--off"]


def test_rows_of_other_tasks_one_notice_each_and_skipped(tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_bytes(
        (HEADER + GOOD + ",https://huggingface.co/org/asr,3,,asr,,N/A\n" + "\n")
        .replace("\n", "\r\n")
        .encode("utf-8-sig")
    )
    assert list(models_from_list(path, skip_invalid=False)["models"]) == ["org--good--off"]
    said = capsys.readouterr().err.splitlines()
    assert said == [
        f"energybench: AES model list {path}: row 3, column 'Task', value "
        "'asr': skipped: this pipeline runs text_gen, image_gen, "
        "text_classification only"
    ]
    path.write_text(HEADER + ",https://huggingface.co/org/asr,3,,asr,,N/A\n")
    with pytest.raises(ModelListError, match="no row this pipeline can run"):
        models_from_list(path, skip_invalid=False)


def test_an_image_gen_row_needs_no_class_but_a_bad_one_is_named(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        HEADER
        + ",https://huggingface.co/org/flux,3,,image_gen,,N/A (default)\n"
        + ",https://huggingface.co/org/sd,3,Z,image_gen,,N/A\n"
    )
    with pytest.raises(ModelListError, match=r"row 3, column 'Class', value 'Z': unknown class"):
        models_from_list(path, skip_invalid=False)
    assert models_from_list(path, skip_invalid=True)["models"] == {
        "org--flux": {
            "id": "org/flux",
            "task": "image_generation",
            "reasoning": False,
            "reasoning_state": "",
            "priority": 3,
            "aes_reasoning": "effective",
        }
    }


def test_a_text_classification_row_imports_as_the_registry_declares_the_task(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(HEADER + ",https://huggingface.co/org/bert,2,,text_classification,,N/A\n")
    assert models_from_list(path, skip_invalid=False)["models"] == {
        "org--bert": {
            "id": "org/bert",
            "task": "text_classification",
            "reasoning": False,
            "reasoning_state": "",
            "priority": 2,
            "aes_reasoning": "effective",
        }
    }


def test_import_aes_stated_reading_and_notices_on_the_command_line(tmp_path):
    line = ",https://huggingface.co/org/m,1,A,text_gen,On (Turbo),N/A\n"
    status, stderr, output = import_aes(tmp_path, HEADER + line)
    assert status == 0
    assert (
        "row 2, column 'Reasoning State', value 'On (Turbo)': org/m: unknown detail "
        "'Turbo'" in stderr
    )
    assert "AES's runner runs this row with reasoning off" in stderr
    assert yaml.safe_load(output.read_text())["models"]["org--m--on-turbo"]["reasoning"] is False
    status, stderr, output = import_aes(tmp_path, HEADER + line, "--aes-reasoning", "stated")
    entry = yaml.safe_load(output.read_text())["models"]["org--m--on-turbo"]
    assert (status, entry["reasoning"], entry["aes_reasoning"]) == (0, True, "stated")


def test_contradictory_cell_runs_as_aes_runs_it_with_a_notice(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        HEADER + ",https://huggingface.co/org/m,1,a,text_gen,On,enable_thinking=False\n"
    )
    for reading in ("effective", "stated"):
        result = read_model_list(path, reading)
        assert not result.problems and result.models["org--m--on"]["reasoning"] is False
        assert "the cell turns reasoning off but the reasoning state is 'On'" in str(
            result.notices[0]
        )


@pytest.fixture(scope="module")
def imported_table():
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    return {
        key: resolve_model(key, entry, config["defaults"], config["measurement"])
        for key, entry in read_model_list(OCT_2025).models.items()
    }


@pytest.mark.parametrize(
    "select, expected",
    [
        (
            {"model_name": "GPT-OSS-20B"},
            {
                "openai--gpt-oss-20b--on-high",
                "openai--gpt-oss-20b--on-low",
                "openai--gpt-oss-20b--on-medium",
                "openai--gpt-oss-20b--off",
            },
        ),
        (
            {"model_name": "gpt-oss", "reasoning_state": "high"},
            {"openai--gpt-oss-20b--on-high", "openai--gpt-oss-120b--on-high"},
        ),
        (
            {"model_name": "qwen3-0.6b", "priority": 3},
            {"Qwen--Qwen3-0.6B--on", "Qwen--Qwen3-0.6B--off"},
        ),
        ({"model_name": "gpt-oss-20b", "priority": [2]}, {"openai--gpt-oss-20b--off"}),
        (
            {"model_name": "gpt-oss-20b", "task": "text_gen", "class": "b"},
            {
                "openai--gpt-oss-20b--on-high",
                "openai--gpt-oss-20b--on-low",
                "openai--gpt-oss-20b--on-medium",
                "openai--gpt-oss-20b--off",
            },
        ),
        ({"model_name": "gpt-oss-20b", "class": ["a", "C"]}, set()),
    ],
)
def test_select_like_the_batch_runner(imported_table, select, expected):
    if not expected:
        with pytest.raises(ConfigError, match="matches none"):
            select_models(imported_table, select)
    else:
        assert set(select_models(imported_table, select)) == expected


def test_select_in_aes_spellings_through_the_command_line(imported_table):
    """Snakemake hands nested --config values over as strings: `[2, 3]` arrives as
    ["2", "3"]; the config schema's options (an integer or a list of them) type them."""
    from energybench.plan.config import coerce_command_line_values

    schema = load_yaml(REPO_ROOT / "config/schemas/config.schema.yaml")
    given = {
        "select": {"priority": ["2", "3"], "class": "b", "task": "text_gen"},
        "num_prompts": "3",
    }
    config = coerce_command_line_values(given, schema)
    assert config == {
        "select": {"priority": [2, 3], "class": "b", "task": "text_gen"},
        "num_prompts": 3,
    }
    chosen = select_models(imported_table, config["select"])
    assert chosen and all(imported_table[k]["priority"] in (2, 3) for k in chosen)
    assert all(imported_table[k]["class"] == "B" for k in chosen)


def test_select_by_priority_that_matches_nothing_is_an_error(imported_table):
    with pytest.raises(ConfigError, match="matches none"):
        select_models(imported_table, {"priority": 9})


def test_aes_preset_sets_the_protocol_over_the_entry(imported_table):
    on = apply_preset("aes", imported_table["openai--gpt-oss-20b--on-high"])
    off = apply_preset("aes", imported_table["openai--gpt-oss-20b--off"])
    for run in (on, off):
        assert (run["batch_size"], run["temperature"], run["num_prompts"], run["protocol"]) == (
            1,
            0.7,
            10,
            "aes",
        )
    assert (on["max_new_tokens"], on["min_new_tokens"]) == (8192, 1)
    assert (off["max_new_tokens"], off["min_new_tokens"]) == (10, 10)
    assert apply_preset(None, off) is off
    with pytest.raises(ConfigError, match="unknown preset"):
        apply_preset("mlperf", off)


@pytest.mark.parametrize(
    "campaign, prompts, dataset",
    [
        ({}, 10, "EnergyStarAI/text_generation"),
        ({"num_prompts": 3, "prompts_file": "data/prompts.jsonl"}, 3, "data/prompts.jsonl"),
        ({"num_prompts": 1000}, 1000, "EnergyStarAI/text_generation"),
    ],
)
def test_number_of_prompts_and_dataset_are_the_campaigns(
    imported_table, campaign, prompts, dataset
):
    """As AES's -n and --prompts-file: the campaign's, over the preset's 10 and AES's data."""
    from energybench.plan.campaign_settings import apply_campaign_settings

    run = apply_campaign_settings(
        imported_table["openai--gpt-oss-20b--off"], {"preset": "aes", **campaign}
    )
    assert (run["num_prompts"], run["dataset"], run["dataset_column"]) == (prompts, dataset, "text")


def test_the_run_log_says_where_reasoning_differs_from_the_stated_state(imported_table):
    from energybench.run.settings import RunConfig

    deepseek = RunConfig.from_dict(imported_table["deepseek-ai--DeepSeek-R1--on"])
    assert "states reasoning 'On'; this run has reasoning off" in deepseek.reasoning_note
    assert deepseek.to_dict()["aes_reasoning"] == "effective"
    assert (
        RunConfig.from_dict(imported_table["openai--gpt-oss-20b--on-high"]).reasoning_note is None
    )


def test_new_settings_leave_existing_run_configs_and_their_digest_alone(imported_table):
    """temperature, prompt_prefix, reasoning_state, priority and protocol are left out of a
    resolved config while unset, so the models of an existing campaign do not rerun."""
    from energybench.run.backends.pytorch import sampling
    from energybench.run.settings import RunConfig

    config = load_yaml(REPO_ROOT / "config/config.yaml")
    plain = RunConfig.from_dict(
        resolve_model("m", {"id": "org/m"}, config["defaults"], config["measurement"])
    )
    assert not {"temperature", "prompt_prefix", "reasoning_state", "priority", "protocol"} & set(
        plain.to_dict()
    )
    preset = RunConfig.from_dict(apply_preset("aes", imported_table["openai--gpt-oss-20b--off"]))
    assert preset.to_dict()["protocol"] == "aes" and preset.digest() != plain.digest()
    assert sampling(plain.temperature) == {"do_sample": False}
    assert sampling(preset.temperature) == {"do_sample": True, "temperature": 0.7}
