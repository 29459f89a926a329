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
