"""The one place the paper outputs read stored benchmark reports.

A report that cannot be read, or does not follow the report schema (an old schema version, a
hand-edited file), is named in the log with the reason and left out; it never stops the
tables or figures of the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

from energybench.report import Report, UnreadableReport, read_report, validate_report

log = logging.getLogger(__name__)


@dataclass
class StoredReports:
    """The readable reports (in the order given), typed, and the skipped files with why."""

    reports: list[Report] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def read_stored_report(path: Path) -> tuple[Report | None, str | None]:
    """(the report at ``path``, typed, None), or (None, a one-line reason it cannot be used)."""
    try:
        report = read_report(path)
    except UnreadableReport as exc:
        return None, exc.reason
    try:
        validate_report(report)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        version = report.get("schema_version")
        return None, f"does not follow report schema (schema_version {version!r}), " \
                     f"field {where}: {exc.message}"
    return Report.from_dict(report), None


def read_stored_reports(paths) -> StoredReports:
    stored = StoredReports()
    for path in map(Path, paths):
        report, problem = read_stored_report(path)
        if problem:
            log.warning("skipping report %s: %s", path, problem)
            stored.skipped[str(path)] = problem
        else:
            stored.reports.append(report)
    return stored

