"""Model keys: the Snakemake wildcard and a path component of every output of a model.

A key names `resources/models/<key>` (which the tiny-model rule builds, and Snakemake deletes
before rebuilding) and `results/runs/<key>/`. A key such as `..` or `.` would make those paths
point at their parents, and a forced run would delete them with everything in them; so the rule
below is checked when the configuration is read, constrains the workflow's wildcard, and is
checked again by `child_path` right where a model's directory is created or removed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MAX_KEY_LENGTH = 100
# The first character is a letter or digit: that rules out `.`, `..`, hidden names and names
# that a command would read as an option (`-rf`). The same regex, unanchored, is the
# workflow's wildcard constraint, and config/schemas/models.schema.yaml repeats it anchored.
KEY_REGEX = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_KEY_LENGTH - 1}}}"
KEY_RULE = (
    f"a model key is 1 to {MAX_KEY_LENGTH} letters, digits, '.', '_' or '-', starting with a "
    "letter or digit (e.g. llama-3.1-8b)"
)


def key_problem(key: object) -> str | None:
    """Why ``key`` cannot be a model key, or None when it can."""
    if not isinstance(key, str):
        kind = "null" if key is None else type(key).__name__
        return (
            f"YAML reads the key {key!r} as {kind}, not text; quote it "
            f"(e.g. '{key}':) or rename it; {KEY_RULE}"
        )
    if re.fullmatch(KEY_REGEX, key):
        return None
    shown = key if len(key) <= 40 else key[:40] + "..."
    return f"key {shown!r} is not allowed: {KEY_RULE}"


class UnsafePathError(ValueError):
    """A model's directory would not lie inside the directory meant to hold it."""


def child_path(path: str | os.PathLike) -> Path:
    """``path`` (``PARENT/<key>``) after checking that it is a valid key inside PARENT.

    Works on the text as given: pathlib would turn ``resources/models/.`` into
    ``resources/models`` before any check could see the dot. The resolved path must lie
    directly inside the resolved parent, so a symlink pointing elsewhere is refused too.
    """
    text = os.fspath(path).rstrip("/")
    parent, name = os.path.split(text)
    problem = key_problem(name)
    if problem is None:
        resolved_parent = Path(parent or ".").resolve()
        if Path(text).resolve().parent != resolved_parent:
            problem = f"it resolves outside {resolved_parent}"
    if problem:
        raise UnsafePathError(f"refusing to create or delete {os.fspath(path)!r}: {problem}")
    return Path(text)
