import pandas as pd
import pytest

from energybench.run.errors import ConfigError
from energybench.run.prompts import load_prompts

TEXTS = ["first prompt", "second prompt", "third prompt"]


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".parquet"])
def test_local_formats(tmp_path, suffix):
    path = tmp_path / f"prompts{suffix}"
    frame = pd.DataFrame({"text": TEXTS, "other": [1, 2, 3]})
    {
        ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        ".json": lambda: frame.to_json(path, orient="records"),
        ".csv": lambda: frame.to_csv(path, index=False),
        ".parquet": lambda: frame.to_parquet(path),
    }[suffix]()
    assert load_prompts(str(path), 2) == TEXTS[:2]


def test_missing_file_column_and_too_few_prompts(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_prompts(str(tmp_path / "absent.jsonl"), 1)
    path = tmp_path / "p.csv"
    pd.DataFrame({"prompt": TEXTS}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"no column 'text' \(columns: prompt\)"):
        load_prompts(str(path), 1)
    assert load_prompts(str(path), 3, column="prompt") == TEXTS
    with pytest.raises(ConfigError, match="has 3 prompts but the run needs 5"):
        load_prompts(str(path), 5, column="prompt")


def test_shipped_prompt_set_is_loadable():
    from conftest import REPO_ROOT

    assert len(load_prompts(str(REPO_ROOT / "data/prompts.jsonl"), 40)) == 40


def test_prompt_prefix_goes_before_every_prompt(tmp_path):
    path = tmp_path / "p.jsonl"
    pd.DataFrame({"text": TEXTS}).to_json(path, orient="records", lines=True)
    assert load_prompts(str(path), 2, prefix="/think ") == [
        "/think first prompt",
        "/think second prompt",
    ]


def test_too_short_local_dataset_rejected_before_any_run_naming_each_model(tmp_path):
    from energybench.run.prompts import check_prompt_counts

    path = tmp_path / "p.jsonl"
    pd.DataFrame({"text": TEXTS}).to_json(path, orient="records", lines=True)

    def cfg(num, warmup):
        return {
            "dataset": str(path),
            "dataset_column": "text",
            "num_prompts": num,
            "warmup_prompts": warmup,
        }

    check_prompt_counts({"fits": cfg(2, 1), "hub": {**cfg(99, 0), "dataset": "org/name"}})
    with pytest.raises(ConfigError) as error:
        check_prompt_counts({"fits": cfg(2, 1), "big": cfg(3, 2), "bigger": cfg(10, 0)})
    assert str(error.value) == (
        f"model 'big': dataset '{path}' has 3 prompts but num_prompts + warmup_prompts ask for "
        f"5; model 'bigger': dataset '{path}' has 3 prompts but num_prompts + warmup_prompts "
        "ask for 10"
    )


@pytest.mark.parametrize(
    "suffix, content, row, what",
    [
        (".jsonl", '{"text": "fine"}\n{"text": null}\n', 2, "null"),
        (".jsonl", '{"text": "fine"}\n{"text": ""}\n', 2, "empty"),
        (".jsonl", '{"text": "fine"}\n{"text": "  \\n"}\n', 2, "only whitespace"),
        (".jsonl", '{"text": 42}\n{"text": "fine"}\n', 1, "int '42'"),
        (".jsonl", '{"text": ["a", "b"]}\n{"text": "fine"}\n', 1, "list"),
        (".jsonl", '{"text": "fine"}\n{"other": "x"}\n', 2, "null"),
        (".json", '[{"text": "fine"}, {"text": {"nested": 1}}]', 2, "dict"),
        (".csv", 'text\nfine\n""\n', 2, "empty"),
    ],
)
def test_null_empty_or_non_text_prompts_are_rejected_naming_the_row(
    tmp_path, suffix, content, row, what
):
    path = tmp_path / f"p{suffix}"
    path.write_text(content)
    with pytest.raises(
        ConfigError,
        match=rf"column 'text': every prompt must be non-empty "
        rf"text; row {row}: {what}",
    ):
        load_prompts(str(path), 2)


def test_prompts_are_taken_as_written(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("text\n123\nNA\nnull\n")
    assert load_prompts(str(path), 3) == ["123", "NA", "null"]
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "007"}\n')
    assert load_prompts(str(path), 1) == ["007"]


@pytest.mark.parametrize(
    "name, content, where",
    [
        ("p.jsonl", b'{"text": "a"}\n{"text": "b"\n', r"line 2, column \d+: not valid JSON"),
        ("p.jsonl", b'{"text": "a"}\n\n["b"]\n', r"line 3: a JSON list, not an object"),
        (
            "p.jsonl",
            b'{"text": "a"}\n{"text": "b"}\n{"text": "caf\xe9"}\n',
            r"not UTF-8 text: byte 0xe9 on line 3",
        ),
        ("p.jsonl", '{"text": "a"}\n'.encode("utf-16"), r"is UTF-16 text"),
        ("p.jsonl", b"\x00\x01\x02binary" * 10, r"is a binary file"),
        ("p.json", b'[{"text": "a"},\n {"text": "b"},\n]', r"line 3, column 1: not valid JSON"),
        ("p.json", b'[{"text": "a"}, "b"]', r"item 2 is a JSON str, not an object"),
        ("p.csv", b"text,id\na,1\nb,2,extra\n", r"line 3: 3 fields where the header has 2"),
        ("p.csv", b'text\na\n"b\nc\n', r"line 3: not valid CSV \(unexpected end of data\)"),
        ("p.csv", b'text\n"a"b\n', r"line 2: not valid CSV"),
        ("p.parquet", b"PAR1 not really parquet", r"is not a readable Parquet file"),
    ],
)
def test_a_malformed_dataset_is_one_paragraph_naming_file_line_and_model(
    tmp_path, name, content, where
):
    from energybench.run.prompts import check_prompt_counts

    path = tmp_path / name
    path.write_bytes(content)
    cfg = {"dataset": str(path), "dataset_column": "text", "num_prompts": 1, "warmup_prompts": 0}
    with pytest.raises(ConfigError, match=where) as error:
        check_prompt_counts({"first": cfg, "second": cfg})
    message = str(error.value)
    assert message.startswith("model 'first': ") and "model 'second': " in message
    assert str(path) in message and "\n" not in message
