"""How the project writes its files: atomically (a temporary file beside the target, flushed,
then renamed: a reader sees the old file or the whole new one, never half of it), with the mode
the umask allows, so a shared campaign's results are readable by the group when it says so."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


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
