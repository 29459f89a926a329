"""Every attempt of a model's run, kept: no rerun can destroy the last good measurement.

Snakemake removes a job's output before it runs the job, so a rerun that fails would leave
only its failed report where a good one was. Each attempt therefore runs in a directory of its
own, ``results/runs/<model>/history/<UTC time>/``, and is *published* when it ends: its files
are hard-linked into ``results/runs/<model>/``, the report last, so the workflow's output is
the newest attempt's report while every earlier one stays in the history (a hard link costs
no space). An interrupted attempt is no result and is discarded. Readers of the tables and the
site show, in place of a failed report, the newest earlier attempt that succeeded, and say so
(energybench.publish.paper.stored). Nothing here deletes a report that was published: the user does,
as the README says (restore, discard); a report no attempt holds is kept in the history
before anything is published over it.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from energybench.run.report import REPORT_NAME, Report, UnreadableReport

HISTORY = "history"
KEPT_SUFFIX = "-kept"


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _new_dir(history: Path, name: str) -> Path:
    """``history/name``, or ``name.2``, ``name.3`` ... when attempts share a second."""
    history.mkdir(parents=True, exist_ok=True)
    for number in range(1, 1000):
        path = history / (name if number == 1 else f"{name}.{number}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free attempt directory for {name} in {history}")


def new_attempt(model_dir: str | Path) -> Path:
    """A new, empty directory for an attempt of the model whose run directory is
    ``model_dir``."""
    return _new_dir(Path(model_dir) / HISTORY, _stamp(time.time()))


def attempts(model_dir: str | Path) -> list[Path]:
    """The model's attempts with a report, oldest first."""
    history = Path(model_dir) / HISTORY
    if not history.is_dir():
        return []
    return sorted(
        (p for p in history.iterdir() if (p / REPORT_NAME).is_file()), key=lambda p: p.name
    )


def _published(model_dir: Path) -> list[Path]:
    return [p for p in model_dir.iterdir() if p.name != HISTORY] if model_dir.is_dir() else []


def clear_published(model_dir: str | Path) -> None:
    """Remove the published files of the model (links: the attempts keep them), so no file of
    an earlier attempt sits beside a new report as if it belonged to it. A report no attempt
    holds (stored before attempts were kept, copied in by hand) is kept in the history first:
    a job or a restore started outside the workflow, whose ``onstart`` keeps such reports,
    must not destroy it either."""
    model_dir = Path(model_dir)
    kept = keep_stored_report(model_dir)
    if kept is not None:
        print(f"energybench: kept the stored report in {kept}", file=sys.stderr)
    for path in _published(model_dir):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of ``source`` into ``target`` (the report last, atomically), or
    copy where the file system has no hard links."""
    report = None
    for path in sorted(source.iterdir()):
        if path.name == REPORT_NAME:
            report = path
        elif path.is_dir():
            shutil.copytree(
                path, target / path.name, copy_function=_link_or_copy, dirs_exist_ok=True
            )
        else:
            _link_or_copy(path, target / path.name)
    if report is not None:
        partial = target / f".{REPORT_NAME}.publishing"
        partial.unlink(missing_ok=True)
        _link_or_copy(report, partial)
        os.replace(partial, target / REPORT_NAME)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish(attempt: str | Path, model_dir: str | Path) -> None:
    """Make ``attempt`` the model's published run: its files in ``model_dir``."""
    model_dir = Path(model_dir)
    clear_published(model_dir)
    _link_tree(Path(attempt), model_dir)


def restore(model_dir: str | Path, name: str) -> Path:
    """Publish the attempt ``name`` again, at the user's word (the last good report after a
    failed rerun, say); the report is touched so that what is made of it is remade."""
    model_dir = Path(model_dir)
    attempt = model_dir / HISTORY / name
    if attempt not in attempts(model_dir):
        known = ", ".join(p.name for p in attempts(model_dir)) or "none"
        raise FileNotFoundError(
            f"{model_dir} has no attempt {name!r} with a report (attempts: {known})"
        )
    publish(attempt, model_dir)
    os.utime(model_dir / REPORT_NAME)
    return attempt


def describe(model_dir: str | Path) -> list[str]:
    """One line per attempt of the model, oldest first: its name, status, end and error,
    the published one marked."""
    model_dir = Path(model_dir)
    published = model_dir / REPORT_NAME
    shown = published.stat() if published.is_file() else None
    lines = []
    for attempt in attempts(model_dir):
        stat = (attempt / REPORT_NAME).stat()
        mark = "*" if shown and (stat.st_ino, stat.st_dev) == (shown.st_ino, shown.st_dev) else " "
        try:
            report = Report.read(attempt / REPORT_NAME)
        except (UnreadableReport, ValueError) as exc:
            lines.append(f"{mark} {attempt.name}  unreadable: {exc}")
            continue
        error = f"  {report.error_text}" if report.error else ""
        lines.append(
            f"{mark} {attempt.name}  {report.status}  finished "
            f"{report.provenance.finished_at}{error}"
        )
    return lines


def discard(attempt: str | Path) -> None:
    """Remove an attempt that is no result (interrupted)."""
    shutil.rmtree(attempt, ignore_errors=True)


def keep_stored_reports(runs_dir: str | Path) -> list[Path]:
    """Keep each model's published report that no attempt holds (:func:`keep_stored_report`);
    return the attempts made."""
    kept = (
        keep_stored_report(report.parent)
        for report in sorted(Path(runs_dir).glob(f"*/{REPORT_NAME}"))
    )
    return [attempt for attempt in kept if attempt is not None]


def keep_stored_report(model_dir: Path) -> Path | None:
    """Put the model's published report, when no attempt holds it (one stored before attempts
    were kept, or copied in by hand), into its history, with the files beside it, so that a
    rerun cannot destroy it; return the attempt made, None when there was nothing to keep."""
    report = model_dir / REPORT_NAME
    if not report.is_file() or report.stat().st_nlink > 1 or _relinked_to_its_attempt(report):
        return None  # none, or kept already
    attempt = _new_dir(model_dir / HISTORY, _stamp(report.stat().st_mtime) + KEPT_SUFFIX)
    for path in _published(model_dir):
        if path.is_dir():
            shutil.copytree(path, attempt / path.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(path, attempt / path.name)
    return attempt


def _relinked_to_its_attempt(report: Path) -> bool:
    """Whether an attempt holds a copy of ``report`` (results copied without their hard
    links: ``cp -r``, rsync without -H, a file system without links); if so the report is
    made a link of it again, with its times kept, so that nothing reruns and the history is
    not doubled."""
    content = report.read_bytes()
    for attempt in reversed(attempts(report.parent)):
        if (attempt / REPORT_NAME).read_bytes() != content:
            continue
        times = report.stat()
        partial = report.with_name(f".{REPORT_NAME}.relinking")
        partial.unlink(missing_ok=True)
        try:
            os.link(attempt / REPORT_NAME, partial)
        except OSError:
            return True  # no hard links here: the attempt's copy keeps it
        os.utime(partial, ns=(times.st_atime_ns, times.st_mtime_ns))
        os.replace(partial, report)
        return True
    return False


def earlier_success(report_path: str | Path) -> tuple[Path, Report] | None:
    """For a published report (one that failed): the newest attempt before it that
    succeeded, and its report; None when there is none."""
    report_path = Path(report_path)
    published = report_path.stat()
    history = attempts(report_path.parent)
    for index, attempt in enumerate(history):
        stat = (attempt / REPORT_NAME).stat()
        if (stat.st_ino, stat.st_dev) == (published.st_ino, published.st_dev):
            history = history[:index]  # only attempts before the published one
            break
    return next(((a, r) for a, r in _readable(reversed(history)) if r.succeeded), None)


def unpublished_attempt(model_dir: str | Path) -> tuple[Path, Report] | None:
    """For a model with no published report but attempts kept (a rerun that was interrupted
    after it unpublished the last report: the job clears the published files when it starts,
    and Snakemake removes an interrupted job's output): the attempt shown in the report's
    place, the newest that succeeded, else the newest readable one, and its report; None when
    a report is published or no attempt is kept. Nothing is published again here: the
    report stays missing, so the next run of the workflow redoes the model."""
    model_dir = Path(model_dir)
    if (model_dir / REPORT_NAME).is_file():
        return None
    newest = None
    for attempt, report in _readable(reversed(attempts(model_dir))):
        if report.succeeded:
            return attempt, report
        newest = newest or (attempt, report)
    return newest


def shown_in_place(report_path: str | Path) -> tuple[Path, Report] | None:
    """The attempt shown in place of the model's published report at ``report_path``, and its
    report: :func:`unpublished_attempt` when none is published, else :func:`earlier_success`
    (for a failed one)."""
    report_path = Path(report_path)
    if not report_path.is_file():
        return unpublished_attempt(report_path.parent)
    return earlier_success(report_path)


def published_path(report_path: str | Path) -> Path:
    """The path of the model's published report, for the path of a report that may be one of
    its attempts' (``<model>/history/<attempt>/benchmark_report.json``)."""
    report_path = Path(report_path)
    if report_path.parent.parent.name == HISTORY:
        return report_path.parent.parent.parent / report_path.name
    return report_path


def _readable(attempts_in_order) -> Iterator[tuple[Path, Report]]:
    for attempt in attempts_in_order:
        try:
            yield attempt, Report.read(attempt / REPORT_NAME)
        except (UnreadableReport, ValueError):
            continue
