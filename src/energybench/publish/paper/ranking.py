"""What the outputs rank by, and when they mark a total as estimated (docs/paper.md, "Ranking").

The stars rate measured GPU energy per 1,000 queries within a rating group (energybench.publish.paper
.ratings), so the tables, the energy figure and the site rank each group by that figure: a
CPU-only run, whose total holds no GPU, never heads a "least energy" list. Models without a
measured GPU figure follow, unranked, with why.

A total is marked estimated only where its estimated components make up ESTIMATE_SHARE of it
or more: a CPU or RAM estimate beside a metered GPU is a small part of most totals, and
marking every such total (as any estimated component did) said nothing a reader could use.
"""

from __future__ import annotations

from energybench.run.report import Report
from energybench.run.sections import EnergySection

ESTIMATE_SHARE = 0.10
"""The share of a total from estimated components at which it is marked estimated. A
judgement (docs/paper.md): below it, even an estimate off by half moves the total by under
5%, which does not change how it compares with other models; which components are estimated
is still said per component."""


def rated_figure(report: Report) -> tuple[float | None, str | None]:
    """(measured GPU energy per 1,000 queries, None), the figure the stars rate and the
    outputs rank by; or (None, why the model is not ranked)."""
    gpu, value = report.energy.gpu, report.metrics.wh_per_1000_queries
    if not report.succeeded:
        return None, "run failed"
    if value is None:
        return None, f"GPU energy unknown: {gpu.reason or 'no reason recorded'}"
    if gpu.estimated:
        return None, "GPU energy estimated, not measured"
    return value, None


def rank_key(report: Report) -> tuple:
    """Sorts a rating group's reports: ranked by their rated figure, then the unranked by key."""
    value, _ = rated_figure(report)
    return value is None, value or 0.0, report.model


def estimated_share(energy: EnergySection) -> float | None:
    """The share of the total's gross energy that comes from estimated components; None where
    the total is unknown or not above 0."""
    total = energy.total.gross_joules
    if total is None or total <= 0:
        return None
    counted = energy.total.components or list(energy.components)
    return (
        sum(
            energy.components[name].gross_joules or 0.0
            for name in counted
            if name in energy.components and energy.components[name].estimated
        )
        / total
    )


def total_marked_estimated(energy: EnergySection) -> bool:
    return marked_estimated(energy.estimated, estimated_share(energy))


def marked_estimated(any_estimated: bool, share: float | None) -> bool:
    """Whether a total is shown as an estimate: a component is estimated and makes, with the
    others estimated, ESTIMATE_SHARE of it or more (an unknown share counts as all of it)."""
    if not any_estimated:
        return False
    return share is None or share >= ESTIMATE_SHARE


def group_title(group: str) -> str:
    """A rating group in words: ``text_generation/B`` reads "text generation, class B"."""
    task, _, model_class = group.partition("/")
    words = task.replace("_", " ")
    return f"{words}, class {model_class.replace('_', ' ')}" if model_class else words
