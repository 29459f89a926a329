"""Prompt sets: a local JSONL/JSON/CSV/Parquet file, or a Hugging Face dataset by name."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd

from energybench.config import ConfigError, is_local_dataset

LOCAL_READERS = {  # one per energybench.config.DATASET_SUFFIXES
    ".jsonl": partial(pd.read_json, lines=True),
    ".json": pd.read_json,
    ".csv": pd.read_csv,
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
    return [str(text) for text in frame[column]]


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
    return [str(text) for text in table[column]]


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
            f"dataset {dataset!r} has {len(texts)} prompts but num_prompts asks for {count}"
        )
    return [prefix + text for text in texts[:count]]


def check_prompt_counts(run_configs: dict[str, dict]) -> None:
    """Before any job runs: every model with a local dataset gets as many prompts as it asks
    for (``num_prompts`` + ``warmup_prompts``), else one error naming each such model. A Hugging
    Face dataset is counted when its run starts, before the weights load."""
    counts: dict[tuple[str, str], int] = {}
    problems = []
    for key, cfg in run_configs.items():
        if not is_local_dataset(cfg["dataset"]):
            continue
        source = (cfg["dataset"], cfg["dataset_column"])
        if source not in counts:
            counts[source] = len(_load_local(Path(cfg["dataset"]), cfg["dataset_column"]))
        wanted = cfg["num_prompts"] + cfg["warmup_prompts"]
        if counts[source] < wanted:
            problems.append(f"model {key!r}: dataset {cfg['dataset']!r} has {counts[source]} "
                            f"prompts but num_prompts + warmup_prompts ask for {wanted}")
    if problems:
        raise ConfigError("; ".join(problems))
