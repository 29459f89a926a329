"""How the project writes its files: atomically (a temporary file beside the target, flushed,
then renamed: a reader sees the old file or the whole new one, never half of it), with the mode
the umask allows, so a shared campaign's results are readable by the group when it says so."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from energybench.run.errors import ConfigError

# Text a spreadsheet would evaluate as a formula when it opens a CSV (CSV injection): a cell
# starting with one of these. Such a cell is written behind a single quote, which spreadsheets
# show as text; our own readers take it off again (csv_value). A line break starts a new row
# in some readers, so a cell starting with one is guarded too; so are the full-width forms, and
# any of them behind spaces, which some spreadsheets trim before they look.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_TRIMMED = " \u00a0\u3000"


def umask() -> int:
    """This process's umask, read without changing it (os.umask can only set it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    current = os.umask(0o022)  # not Linux: set and restore
    os.umask(current)
    return current


def shared_mode(path: str | Path, directory: bool = False) -> None:
    """Give a file made by mkstemp/mkdtemp (0600/0700) the mode the umask allows, as a plain
    open() would: results of a shared campaign are readable by the group when the umask says so."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, flush it to disk, then rename: a reader
    sees the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        shared_mode(tmp)
        with os.fdopen(fd, "wb" if isinstance(content, bytes) else "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_if_changed(path: str | Path, content: str) -> Path:
    """Make ``path`` hold ``content`` (atomically), leaving it untouched when it already does:
    its modification time moves only when its content changes."""
    path = Path(path)
    try:
        if path.read_text() == content:
            return path
    except OSError:
        pass  # not written yet
    return write_atomic(path, content)


def json_text(document, indent: int | None = 2) -> str:
    """Strict JSON text (a newline at the end when indented): NaN and infinities are refused,
    they are not JSON, and strict parsers (JSON.parse, jq) reject them. An unknown figure is
    ``null``, with its reason beside it."""
    text = json.dumps(document, indent=indent, allow_nan=False)
    return text + "\n" if indent is not None else text


def write_json_atomic(path: str | Path, document: dict) -> Path:
    """Write strict JSON (:func:`json_text`) atomically."""
    return write_atomic(path, json_text(document))


def _guarded(text: str) -> bool:
    """Whether ``text`` is a formula once any leading quotes and spaces are taken off: such
    text gets one more quote, so a value that began with a quote reads back as it was."""
    return text.lstrip("'" + _TRIMMED).startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet evaluates: text that would be a formula
    behind a single quote; anything else unchanged. Carriage returns become line feeds: the
    csv module quotes a cell holding a line feed, but not one holding a lone carriage return,
    which a spreadsheet would take for the end of the row (and the rest for the next one)."""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if _guarded(value) else value


def csv_value(cell: Any) -> Any:
    """A cell of a CSV we wrote, as it was before csv_cell guarded it."""
    if isinstance(cell, str) and cell[:1] == "'" and _guarded(cell[1:]):
        return cell[1:]
    return cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text of ``header`` and ``rows``, every cell through csv_cell: the one way the
    project writes a CSV with the csv module."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def frame_csv_text(frame) -> str:
    """CSV text of a pandas DataFrame (without its index), every cell through csv_cell."""
    guarded = frame.map(csv_cell)
    guarded.columns = [csv_cell(str(name)) for name in frame.columns]
    return guarded.to_csv(index=False)


def read_csv_values(frame):
    """A DataFrame read from a CSV we wrote, with its cells as they were before guarding."""
    restored = frame.map(csv_value)
    restored.columns = [csv_value(name) for name in frame.columns]
    return restored


def decode_text(data: bytes, path: str | Path) -> str:
    """A file's bytes as text: UTF-8, with or without a byte-order mark; anything else (UTF-16
    as PowerShell writes it, Latin-1, a binary file) is refused naming the file."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        b"\x00" in data[:4096] and data[:4096].count(b"\x00") * 4 >= len(data[:4096])
    ):
        raise ConfigError(
            f"{path} is UTF-16 text (as PowerShell's `>` writes it), not UTF-8; "
            "save it as UTF-8 (e.g. `Out-File -Encoding utf8`, or your "
            "editor's encoding setting)"
        )
    if b"\x00" in data:
        raise ConfigError(f"{path} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line "
            f"{line} (Latin-1 or another legacy encoding?); save the file as "
            "UTF-8"
        ) from None
