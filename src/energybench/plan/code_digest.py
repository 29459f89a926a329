"""One digest that stands for the benchmark's code (or for the code of one output).

The workflow hands this digest, not the package's fifty-odd sources, to every run (and to the
CPU image) as a Snakemake param, so job headers stay short, planning stays fast and a plan
writes nothing: a code change changes the param and reruns the runs that execute that code,
while touching a file, switching branches back and forth or moving the checkout reruns
nothing. The per-model paper outputs (labels, power timelines) have one digest each for the
modules that draw them, in place of those modules (rules/common.smk).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SOURCE_SUFFIXES = (".py", ".json")
# What a run executes, and nothing else: the run and job packages, and the package's modules
# that start it (`python -m energybench run`: __init__ and __main__, which hands `run` and
# `benchmark` to energybench.job.entry). The engine image holds exactly these (.dockerignore;
# a test keeps the two alike); what plans, publishes (tables, figures, the site, the batch
# summary), writes AES's files or parses any other command (energybench.cli) is neither
# hashed nor shipped, so editing it reruns no benchmark (docs/ARCHITECTURE.md, "Layers").
RUN_CODE = ("__init__.py", "__main__.py", "run", "job")


def source_files(package_dir: str | Path) -> list[Path]:
    """The package's files that a run executes or reads, in a stable order."""
    package_dir = Path(package_dir)
    tops = [package_dir / name for name in RUN_CODE]
    return sorted(
        path
        for top in tops
        for path in ([top] if top.is_file() else top.rglob("*"))
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts
    )


def code_digest(package_dir: str | Path, files: list[str | Path] | None = None) -> str:
    """SHA-256 over each source's path (relative to the package) and content: the sources a
    run executes, or ``files`` (in the package) where given."""
    package_dir = Path(package_dir)
    digest = hashlib.sha256()
    for path in source_files(package_dir) if files is None else map(Path, files):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()
