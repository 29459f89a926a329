"""What a workflow run did to a campaign, said at its end as AI Energy Score's batch runner
says it: models run, succeeded, failed (with causes), and left alone because up to date."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from energybench.run.files import write_atomic
from energybench.run.report import Report, UnreadableReport

CAUSE_CHARS = 200
LISTED = 10  # models named in the line of those without a report


def _cause(report: Report) -> str:
    """The first line of a failed run's error (a failed report always has one)."""
    message = report.error.message.strip().splitlines()
    return f"{report.error.type}: {message[0][:CAUSE_CHARS] if message else ''}"


def batch_summary(reports: Mapping[str, str | Path], started_at: float) -> str:
    """The summary of the models ``reports`` ({key: report path}) for a workflow run that
    started at ``started_at`` (epoch seconds): a report written since then was run by it."""
    ran, succeeded, failed, up_to_date, missing = [], [], {}, [], []
    for model, path in reports.items():
        path = Path(path)
        if not path.exists():
            missing.append(model)
            continue
        try:
            report = Report.read(path)
        except UnreadableReport as exc:
            report, unreadable = None, f"unreadable report: {exc.reason}"[:CAUSE_CHARS]
        if path.stat().st_mtime >= started_at:
            ran.append(model)
            if report is None:
                failed[model] = unreadable
            elif report.succeeded:
                succeeded.append(model)
            else:
                failed[model] = _cause(report)
        else:
            up_to_date.append(model)
    lines = [
        f"BATCH SUMMARY: {len(reports)} model(s); ran {len(ran)}, succeeded {len(succeeded)}, "
        f"failed {len(failed)}, up to date {len(up_to_date)}, no report {len(missing)}",
        *(f"  failed   {model}: {cause}" for model, cause in failed.items()),
        *(f"  up to date {model}" for model in up_to_date),
    ]
    if missing:
        shown = ", ".join(missing[:LISTED]) + (
            f" and {len(missing) - LISTED} more" if len(missing) > LISTED else ""
        )
        lines.append(
            f"  no report yet (not asked for, or its job did not finish: see "
            f"logs/benchmark/<model>.log): {shown}"
        )
    return "\n".join(lines) + "\n"


def write_batch_summary(
    reports: Mapping[str, str | Path], started_at: float, output: str | Path
) -> str:
    """Write the summary to ``output`` (atomically) and return it."""
    text = batch_summary(reports, started_at)
    write_atomic(output, text)
    return text
