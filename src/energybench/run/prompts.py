"""Prompt sets: a local JSONL/JSON/CSV/Parquet file, or a Hugging Face dataset by name."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from energybench.run.errors import ConfigError
from energybench.run.files import decode_text
from energybench.run.settings import is_local_dataset

EXAMPLE_LINE = '{"text": "..."}'


def _jsonl_records(path: Path, text: str) -> list:
    records = []
    # Lines end at "\n" only: a JSON string may hold characters splitlines() would break at.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"dataset file {path}, line {number}, column {exc.colno}: not "
                f"valid JSON ({exc.msg}); each line must be one JSON object, "
                f"e.g. {EXAMPLE_LINE}"
            ) from None
        if not isinstance(records[-1], dict):
            raise ConfigError(
                f"dataset file {path}, line {number}: a JSON "
                f"{type(records[-1]).__name__}, not an object; each line must be "
                f"one JSON object, e.g. {EXAMPLE_LINE}"
            )
    return records


def _json_records(path: Path, text: str) -> list:
    """A list of objects, or an object of columns (as pandas writes with orient=columns)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"dataset file {path}, line {exc.lineno}, column {exc.colno}: not "
            f"valid JSON ({exc.msg})"
        ) from None
    if isinstance(document, dict) and all(isinstance(v, (list, dict)) for v in document.values()):
        columns = {
            name: list(v.values()) if isinstance(v, dict) else v for name, v in document.items()
        }
        rows = max(map(len, columns.values()), default=0)
        return [
            {name: values[row] for name, values in columns.items() if row < len(values)}
            for row in range(rows)
        ]
    if isinstance(document, list):
        for number, item in enumerate(document, start=1):
            if not isinstance(item, dict):
                raise ConfigError(
                    f"dataset file {path}: item {number} is a JSON "
                    f"{type(item).__name__}, not an object; give a list of "
                    f"objects, e.g. [{EXAMPLE_LINE}]"
                )
        return document
    raise ConfigError(
        f"dataset file {path}: a JSON {type(document).__name__}; give a list of "
        f"objects, e.g. [{EXAMPLE_LINE}]"
    )


def _csv_records(path: Path, text: str) -> list:
    """Every value as written: text, an empty cell the empty text, "NA" the text NA."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, records = None, []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise ConfigError(
                f"dataset file {path}, line {start}: not valid CSV ({exc}); "
                "a field holding a comma, a quote or a line break must be in "
                'double quotes, with its quotes doubled ("say ""hi""")'
            ) from None
        if not row:
            continue  # a blank line
        if header is None:
            header = row
        elif len(row) != len(header):
            raise ConfigError(
                f"dataset file {path}, line {start}: {len(row)} fields where the "
                f"header has {len(header)}; a field holding a comma must be in "
                "double quotes"
            )
        else:
            records.append(dict(zip(header, row)))


def _parquet_records(path: Path) -> list:
    import pandas as pd

    try:
        return pd.read_parquet(path).to_dict("records")
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise ConfigError(
            f"dataset file {path} is not a readable Parquet file ({type(exc).__name__}: {exc})"
        ) from None


TEXT_READERS = {".jsonl": _jsonl_records, ".json": _json_records, ".csv": _csv_records}
# One per energybench.run.settings.DATASET_SUFFIXES.
LOCAL_FORMATS = (*TEXT_READERS, ".parquet")


def _load_local(path: Path, column: str) -> list:
    """The ``column`` of a local prompt file, each value as written; anything malformed is
    one ConfigError naming the file and the line (or item) where it is."""
    if not path.is_file():
        raise ConfigError(f"dataset file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in LOCAL_FORMATS:
        raise ConfigError(
            f"dataset file {path} has an unknown format; use one of {', '.join(LOCAL_FORMATS)}"
        )
    try:
        records = (
            _parquet_records(path)
            if suffix == ".parquet"
            else TEXT_READERS[suffix](path, decode_text(path.read_bytes(), path))
        )
    except OSError as exc:
        raise ConfigError(f"cannot read dataset file {path}: {exc.strerror}") from None
    columns = list(dict.fromkeys(name for record in records for name in record))
    if column not in columns:
        raise ConfigError(
            f"dataset file {path} has no column {column!r} (columns: {', '.join(columns)}); "
            "set dataset_column"
        )
    return [record.get(column) for record in records]


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
    bad = [
        (row, value)
        for row, value in enumerate(values, start=1)
        if not isinstance(value, str) or not value.strip()
    ]
    if not bad:
        return values
    shown = ", ".join(f"row {row}: {_what(value)}" for row, value in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    raise ConfigError(
        f"dataset {dataset!r}, column {column!r}: every prompt must be non-empty "
        f"text; {shown}{more}"
    )


def _what(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if isinstance(value, str):
        return "empty" if not value else "only whitespace"
    return f"{type(value).__name__} {str(value)[:30]!r}"


def load_prompts(
    dataset: str, count: int, column: str = "text", split: str = "train", prefix: str = ""
) -> list[str]:
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
            try:
                loaded[source] = _load_local(Path(cfg["dataset"]), cfg["dataset_column"])
            except ConfigError as exc:
                loaded[source] = exc
        values = loaded[source]
        if isinstance(values, ConfigError):
            problems.append(f"model {key!r}: {values}")
            continue
        wanted = cfg["num_prompts"] + cfg["warmup_prompts"]
        if len(values) < wanted:
            problems.append(
                f"model {key!r}: dataset {cfg['dataset']!r} has {len(values)} "
                f"prompts but num_prompts + warmup_prompts ask for {wanted}"
            )
            continue
        try:
            checked_prompts(values[:wanted], cfg["dataset"], cfg["dataset_column"])
        except ConfigError as exc:
            problems.append(f"model {key!r}: {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
