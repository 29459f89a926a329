"""Prompt sets: a local JSONL/JSON/CSV/Parquet file, or a Hugging Face dataset by name."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd

from energybench.config import ConfigError, is_local_dataset

# Values as written: no guessing that "123" is a number, and in CSV an empty cell is an empty
# string and "NA" a text, not a missing value.
LOCAL_READERS = {  # one per energybench.config.DATASET_SUFFIXES
    ".jsonl": partial(pd.read_json, lines=True, dtype=False),
    ".json": partial(pd.read_json, dtype=False),
    ".csv": partial(pd.read_csv, dtype=str, keep_default_na=False),
    ".parquet": pd.read_parquet,
}


def _load_local(path: Path, column: str) -> list[str]:
    if not path.is_file():
        raise ConfigError(f"dataset file {path} does not exist")
    reader = LOCAL_READERS.get(path.suffix.lower())
    if reader is None:
        raise ConfigError(
            f"dataset file {path} has an unknown format; use one of {', '.join(LOCAL_READERS)}"
        )
    frame = reader(path)
    if column not in frame.columns:
        raise ConfigError(
            f"dataset file {path} has no column {column!r} (columns: {', '.join(frame.columns)}); "
            "set dataset_column"
        )
    return list(frame[column])


def _load_hub(name: str, split: str, column: str) -> list[str]:
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            f"dataset {name!r} is not a local file, and loading Hugging Face datasets needs the "
            "`datasets` package (pip install 'energybench[datasets]')"
        ) from None
    try:
        table = datasets.load_dataset(name, split=split)
    except Exception as exc:  # the hub client raises many unrelated types
        raise ConfigError(
            f"cannot load Hugging Face dataset {name!r} (split {split!r}): {exc}. "
            "Offline machines need the dataset in the HF cache (HF_HOME) or a local file"
        ) from None
    if column not in table.column_names:
        raise ConfigError(
            f"dataset {name!r} has no column {column!r} (columns: {', '.join(table.column_names)})"
        )
    return list(table[column])


def checked_prompts(values: list, dataset: str, column: str) -> list[str]:
    """``values`` as prompts: a null, empty or non-text value is an error naming its row (a
    null would otherwise be benchmarked as the text "nan", an empty prompt as nothing)."""
    bad = [(row, value) for row, value in enumerate(values, start=1)
           if not isinstance(value, str) or not value.strip()]
    if not bad:
        return values
    shown = ", ".join(f"row {row}: {_what(value)}" for row, value in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    raise ConfigError(f"dataset {dataset!r}, column {column!r}: every prompt must be non-empty "
                      f"text; {shown}{more}")


def _what(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if isinstance(value, str):
        return "empty" if not value else "only whitespace"
    return f"{type(value).__name__} {str(value)[:30]!r}"


def load_prompts(dataset: str, count: int, column: str = "text", split: str = "train",
                 prefix: str = "") -> list[str]:
    """The first ``count`` prompts of a dataset, each after ``prefix``; fewer available is an
    error, not a silent cut."""
    if is_local_dataset(dataset):
        texts = _load_local(Path(dataset), column)
    else:
        texts = _load_hub(dataset, split, column)
    if len(texts) < count:
        raise ConfigError(
            f"dataset {dataset!r} has {len(texts)} prompts but the run needs {count} "
            "(num_prompts + warmup_prompts)"
        )
    return [prefix + text for text in checked_prompts(texts[:count], dataset, column)]


def check_prompt_counts(run_configs: dict[str, dict]) -> None:
    """Before any job runs: every model with a local dataset gets as many prompts as it asks
    for (``num_prompts`` + ``warmup_prompts``), each of them text, else one error naming each
    such model. A Hugging Face dataset is checked when its run starts, before the weights load."""
    loaded: dict[tuple[str, str], list] = {}
    problems = []
    for key, cfg in run_configs.items():
        if not is_local_dataset(cfg["dataset"]):
            continue
        source = (cfg["dataset"], cfg["dataset_column"])
        if source not in loaded:
            loaded[source] = _load_local(Path(cfg["dataset"]), cfg["dataset_column"])
        values = loaded[source]
        wanted = cfg["num_prompts"] + cfg["warmup_prompts"]
        if len(values) < wanted:
            problems.append(f"model {key!r}: dataset {cfg['dataset']!r} has {len(values)} "
                            f"prompts but num_prompts + warmup_prompts ask for {wanted}")
            continue
        try:
            checked_prompts(values[:wanted], cfg["dataset"], cfg["dataset_column"])
        except ConfigError as exc:
            problems.append(f"model {key!r}: {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
