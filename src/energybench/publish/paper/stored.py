"""The one place the aggregate outputs read stored benchmark reports.

One rule (``reports``, rules/aggregate.smk) gathers every report into one collection file,
JSON Lines with one entry per report file in the order given: the report, read and validated
there once, or the one-line reason it cannot be used. Every aggregate rule (tables, ratings,
figures, AI Energy Score's master_results, the site) reads that one file. So each report is
validated once, not once per rule, and the workflow's DAG holds one edge per aggregate rule
where it held one per report and rule (planning time at 1,000 models: docs/PERFORMANCE.md).

A report that cannot be read, or does not follow the report schema (an old schema version, a
hand-edited file), is named in the log with the reason and left out; it never stops the
tables or figures of the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from energybench.job import history
from energybench.run.files import json_text, write_atomic
from energybench.run.report import (
    Report,
    UnreadableReport,
    problem_of,
    read_report,
    validate_report,
)

log = logging.getLogger(__name__)


@dataclass
class StoredReports:
    """The readable reports (in the order given), typed, the file each was read from
    (``paths[i]`` holds ``reports[i]``) and the skipped files with why."""

    reports: list[Report] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def read_stored_report(path: Path) -> tuple[Report | None, str | None]:
    """(the report shown for ``path``, typed, with its note, None), or (None, a one-line
    reason it cannot be used). See :func:`shown_document`."""
    report, problem, note = shown_document(path)
    return (None, problem) if problem else (Report.from_dict(report).with_note(note), None)


def shown_document(path: Path) -> tuple[dict | None, str | None, str | None]:
    """(report, problem, note) for the report published at ``path``: the report itself, or,
    when it failed and an earlier attempt of the model succeeded (energybench.job.history), that
    attempt's report with a note saying so: a failed rerun never hides the last good
    measurement, and nothing hides that the rerun failed. When no report is published (a
    rerun was interrupted after unpublishing it), the kept attempt shown in its place
    (``history.unpublished_attempt``), with a note saying so."""
    if not path.is_file():
        kept = history.unpublished_attempt(path.parent)
        if kept is None:
            return (*_checked_document(path), None)  # unreadable: the reason
        attempt, _ = kept
        shown, problem = _checked_document(attempt / path.name)
        note = (
            f"shown: the kept attempt history/{attempt.name}; no report is published "
            "(a rerun was interrupted), and the next run of the workflow redoes the model"
        )
        return shown, problem, None if problem else note
    report, problem = _checked_document(path)
    if report is None or report["status"] != "failed":
        return report, problem, None
    earlier = history.earlier_success(path)
    if earlier is None:
        return report, None, None
    attempt, _ = earlier
    shown, _ = _checked_document(attempt / path.name)
    if shown is None:
        return report, None, None
    error = report.get("error") or {}
    note = (
        f"shown: the earlier attempt history/{attempt.name}; the newest "
        f"attempt, finished {report['provenance'].get('finished_at')}, failed: "
        f"{error.get('type')}: {error.get('message')}"
    )
    return shown, None, note


def shown_run(path: Path) -> tuple[Report, Path]:
    """The report shown for ``path``, typed, with its note, and the file it was read from
    (an earlier attempt's where one stands in for a failed rerun). Raises UnreadableReport
    where the report cannot be used."""
    report, problem = read_stored_report(path)
    if problem:
        raise UnreadableReport(path, problem)
    return report, shown_folder(path, report.note) / path.name


def shown_folder(path: Path, note: str | None) -> Path:
    """The folder of the attempt shown for the report published at ``path`` (``note``: the
    shown report's note): the earlier attempt's where one is shown in place of a failed one,
    or the kept one where none is published, so its raw report and timeline go with its
    figures; else the report's own."""
    return history.shown_in_place(path)[0] if note else path.parent


def _checked_document(path: Path) -> tuple[dict | None, str | None]:
    """(the report at ``path`` as stored, schema-checked, None), or (None, why not)."""
    try:
        report = read_report(path)
    except UnreadableReport as exc:
        return None, exc.reason
    try:
        validate_report(report)
    except ValidationError as exc:
        version = report.get("schema_version")
        return (
            None,
            f"does not follow report schema (schema_version {version!r}), {problem_of(exc)}",
        )
    return report, None


def write_collection(report_paths, output: str | Path) -> Path:
    """Read and validate each report once; write the collection atomically, the unusable
    reports kept as entries with their reason (and named in the log)."""
    lines = []
    # Paper mode names, for a model whose report is not published, its kept attempt's
    # (rules/common.smk, stored_reports): the entry is the model's, at its published path.
    for path in map(history.published_path, report_paths):
        report, problem, note = shown_document(path)
        if problem:
            log.warning("skipping report %s: %s", path, problem)
            lines.append(json_text({"path": str(path), "problem": problem}, indent=None))
        else:
            if note:
                log.warning("report %s: %s", path, note)
            entry = {"path": str(path), "report": report, **({"note": note} if note else {})}
            lines.append(json_text(entry, indent=None))
    return write_atomic(output, "".join(line + "\n" for line in lines))


class UnreadableCollection(ValueError):
    """A collection file that is not one (the ``reports`` rule writes it; rebuild it)."""


def read_stored_reports(collection: str | Path) -> StoredReports:
    """The reports of a collection written by :func:`write_collection`; each skipped report
    is named in the log again, so every aggregate rule's log says what it left out."""
    stored = StoredReports()
    for path, report, problem in _entries(collection):
        if report is None:
            stored.skipped[path] = problem
        else:
            stored.reports.append(report)
            stored.paths.append(Path(path))
    return stored


def iter_stored_reports(collection: str | Path) -> Iterator[Report]:
    """The readable reports of a collection, one at a time, for a reader that keeps what it
    takes from each report and not the report (the tables: holding 1,000 typed reports
    made Python's cycle collector walk them over and over, docs/PERFORMANCE.md section 4)."""
    return (report for _, report, _ in _entries(collection) if report is not None)


class CollectionEntry(BaseModel):
    """One line of a collection: a report file's path and its report, or why it is left out."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    path: str
    report: Report | None = None
    problem: str | None = None
    note: str | None = None


def _entries(collection: str | Path) -> Iterator[tuple[str, Report | None, str | None]]:
    """Each entry of a collection in order, read as it is reached: (its path, the report
    typed, None), or (its path, None, why it cannot be used; named in the log). Each line is
    parsed and typed in one pass by the models (as fast as ``json.loads`` alone)."""
    with open(collection) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                entry = CollectionEntry.model_validate_json(line)
            except ValidationError:
                raise UnreadableCollection(
                    f"report collection {collection}, line {number}: not an entry of a report "
                    "collection; remake it (snakemake --forcerun reports)"
                ) from None
            if entry.report is None:
                log.warning("skipping report %s: %s", entry.path, entry.problem)
                yield entry.path, None, entry.problem
            else:
                yield entry.path, entry.report.with_note(entry.note), None
