"""What the figures select from a report (they compute nothing new: the report holds it)."""

from __future__ import annotations

from energybench.report import COMPONENTS, Report


def measured_components(reports: list[Report]) -> list[str]:
    """Components with a figure in at least one report: only these get a legend entry."""
    return [c for c in COMPONENTS
            if any(r.energy.components[c].gross_joules is not None for r in reports)]


def total_interval_wh(report: Report) -> tuple[float | None, float | None]:
    """The interval over trials of the total energy per 1,000 queries, when there is one."""
    statistics = report.metrics.statistics("total_wh_per_1000_queries")
    return statistics.ci_low, statistics.ci_high


def why_missing(report: Report) -> str:
    """Why a report has no total energy: its failure, or the components' reasons."""
    if not report.succeeded:
        return "run failed"
    return report.energy.total.reason or "energy unknown"
