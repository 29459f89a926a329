"""What the figures select from a report (they compute nothing new: the report holds it)."""

from __future__ import annotations

from energybench.energy import efficiency_figures
from energybench.report import COMPONENTS


def measured_components(reports: list[dict]) -> list[str]:
    """Components with a figure in at least one report: only these get a legend entry."""
    return [c for c in COMPONENTS
            if any(r["energy"]["components"][c]["gross_joules"] is not None for r in reports)]


def per_1000_queries_wh(report: dict, joules: float | None) -> float | None:
    return efficiency_figures(joules, tokens=0,
                              responses=report["summary"]["successful_prompts"])[
        "wh_per_1000_queries"]


def total_interval_wh(report: dict) -> tuple[float | None, float | None]:
    """The interval over trials of the total energy per 1,000 queries, when there is one."""
    gross = (report["energy"]["total"].get("trial_statistics") or {}).get("gross") or {}
    return (per_1000_queries_wh(report, gross.get("ci_low")),
            per_1000_queries_wh(report, gross.get("ci_high")))


def why_missing(report: dict) -> str:
    """Why a report has no total energy: its failure, or the components' reasons."""
    if report["status"] != "succeeded":
        return "run failed"
    return report["energy"]["total"].get("reason") or "energy unknown"
