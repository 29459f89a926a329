"""What the figures select from a report (they compute nothing new: the report holds it)."""

from __future__ import annotations

import textwrap
from collections import Counter

from energybench.run.report import COMPONENTS, Report


def measured_components(reports: list[Report]) -> list[str]:
    """Components with a figure in at least one report: only these get a legend entry."""
    return [
        c
        for c in COMPONENTS
        if any(r.energy.components[c].gross_joules is not None for r in reports)
    ]


def total_interval_wh(report: Report) -> tuple[float | None, float | None]:
    """The interval over trials of the total energy per 1,000 queries, when there is one."""
    return interval_of(report, "total_wh_per_1000_queries")


def interval_of(report: Report, figure: str) -> tuple[float | None, float | None]:
    """The interval over trials of one of the report's metrics, when there is one."""
    statistics = report.metrics.statistics(figure)
    return statistics.ci_low, statistics.ci_high


def why_missing(report: Report) -> str:
    """Why a report has no total energy: its failure, or the components' reasons."""
    if not report.succeeded:
        return "run failed"
    return report.energy.total.reason or "energy unknown"


MANY_MODELS = 60
"""The most models a comparison figure draws one by one. One row per model (0.28 in) is a page
at 60; at 1,000 it is unreadable and slow to draw (docs/PERFORMANCE.md, section 4).
Above it each figure takes its large form (docs/paper.md), which names only a few models."""
NAMED = 5
"""Models named at each end (least and most energy) in a large form."""


def extremes(ordered: list) -> tuple[list, list]:
    """The first and the last few of ``ordered``, none of them twice."""
    return ordered[:NAMED], ordered[NAMED:][-NAMED:]


OFF_SCALE = "at 0 or below, not on a log scale"
"""Why a large form leaves a model's figure off: a log scale has no place for it, and drawing
it at the axis' edge would misplace it."""


def on_log_scale(items: list, values, name) -> tuple[list, list[str]]:
    """``items`` (in order) whose every value (``values(item)``) a log scale can show, and the
    names (``name(item)``) of the others, at 0 or below: left off and named, never clipped."""
    shown, off_scale = [], []
    for item in items:
        if min(values(item)) > 0:
            shown.append(item)
        else:
            off_scale.append(name(item))
    return shown, off_scale


def naming(text: str, models: list[str], width: int = 95) -> str:
    """``text``, then the first few of ``models`` by name and how many more, wrapped between
    words (never inside a model's name)."""
    more = f" and {len(models) - NAMED} more" if len(models) > NAMED else ""
    return textwrap.fill(
        f"{text}: {', '.join(models[:NAMED])}{more}",
        width,
        break_on_hyphens=False,
        break_long_words=False,
    )


def count_note(
    drawn: int, named: int, missing: list[str], table: str, off_scale: list[str] | tuple = ()
) -> str:
    """What a large form shows, so that no model is left out unsaid: how many are drawn and
    named, how many have no figure, by reason (the two commonest, then the rest), and which
    have one at 0 or below (``off_scale``)."""
    note = f"{drawn} models drawn, {named} named (every model in {table})"
    if missing:
        counts = Counter(textwrap.shorten(reason, 50, placeholder=" …") for reason in missing)
        counts = counts.most_common()
        reasons = [f"{reason}: {n}" for reason, n in counts[:2]]
        if len(counts) > 2:
            reasons.append(f"other: {sum(n for _, n in counts[2:])}")
        note += "\n" + textwrap.fill(f"{len(missing)} without a figure ({'; '.join(reasons)})", 95)
    if off_scale:
        note += "\n" + naming(f"{len(off_scale)} {OFF_SCALE}", list(off_scale))
    return note
