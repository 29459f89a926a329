"""Merge the tables of several result directories (campaigns run apart, on other machines)
into one: rows appended in the order given, cells kept verbatim, so AI Energy Score's
master_results.csv stays in its exact format."""

from __future__ import annotations

import csv
from pathlib import Path

from energybench.run.errors import ConfigError
from energybench.run.files import csv_text, csv_value, write_atomic


def table_path(source: str | Path, name: str) -> Path:
    """``source`` itself when it is a file, else the table ``name`` of a results directory."""
    source = Path(source)
    return source if source.is_file() else source / "tables" / name


def merge_tables(output: str | Path, sources: list[str | Path]) -> int:
    """Write the rows of the tables ``sources`` (files, or result directories holding a table
    named like ``output``) to ``output``; return the number of rows. The headers must agree."""
    output = Path(output)
    header, rows = None, []
    for source in sources:
        path = table_path(source, output.name)
        if not path.is_file():
            raise ConfigError(
                f"merge: no table {path} (give a CSV file or a results directory "
                f"with tables/{output.name})"
            )
        with path.open(newline="") as handle:
            records = [[csv_value(cell) for cell in record] for record in csv.reader(handle)]
        if not records:
            raise ConfigError(f"merge: table {path} is empty (not even a header)")
        if header is None:
            header = records[0]
        elif records[0] != header:
            raise ConfigError(
                f"merge: table {path} has other columns than {sources[0]}; "
                "merge tables written by the same version"
            )
        rows += records[1:]
    write_atomic(output, csv_text(header, rows))
    return len(rows)
