"""Energy per 1,000 queries per model: stacked by component, the interval over trials on the
total, the star rating beside it, grouped by rating group."""

from __future__ import annotations

import pandas as pd

from energybench.paper import style
from energybench.paper.figures.selection import (
    measured_components, total_interval_wh, why_missing)
from energybench.report import Report


def draw(reports: list[Report], ratings: pd.DataFrame, outputs) -> None:
    stars = ratings.set_index("model")
    groups = sorted({stars.loc[r.model, "group"] for r in reports}) or ["no models"]
    members = {g: [r for r in reports if stars.loc[r.model, "group"] == g] for g in groups}
    heights = [max(len(m), 1) + 1.5 for m in members.values()]
    fig, axes = style.figure(7.0, style.model_axis_height(sum(heights) - 1.5 * len(groups),
                                                           1.0 + 0.6 * len(groups)),
                             nrows=len(groups), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    components = measured_components(reports)
    any_estimate = False
    for axis, group in zip(axes[:, 0], groups):
        any_estimate |= draw_group(axis, members[group], stars, components)
        axis.set_title(f"Rating group: {group}", loc="left")
    axes[-1, 0].set_xlabel("Energy per 1,000 queries (Wh), gross, mean over trials\n"
                           "error bars: 95% interval over trials, where there are two or more")
    handles = [style.patch(style.COMPONENT_COLORS[c], style.COMPONENT_LABELS[c])
               for c in components]
    if any_estimate:
        handles.append(style.patch("white", "estimated", hatch=style.ESTIMATE_HATCH))
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 6))
    style.save(fig, outputs)


def draw_group(axis, reports: list[Report], stars: pd.DataFrame, components: list[str]) -> bool:
    """One rating group's bars, ordered by total energy; True when any part is estimated."""
    order = sorted(reports, key=lambda r: (r.metrics.total_wh_per_1000_queries is None,
                                           r.metrics.total_wh_per_1000_queries or 0, r.model))
    positions = range(len(order))
    top = max([r.metrics.total_wh_per_1000_queries or 0 for r in order] + [1e-12])
    any_estimate = False
    for position, report in zip(positions, order):
        total = report.metrics.total_wh_per_1000_queries
        if total is None:
            axis.text(0, position, f"  no figure: {why_missing(report)}", va="center",
                      fontsize=7, color=style.TEXT_GREY)
            continue
        left = 0.0
        for name in components:
            value = report.wh_per_1000_queries[name]
            if value is None:
                continue
            estimated = report.energy.components[name].estimated
            axis.barh(position, value, left=left, color=style.COMPONENT_COLORS[name],
                      hatch=style.ESTIMATE_HATCH if estimated else None,
                      edgecolor="white", linewidth=0.5)
            any_estimate |= estimated
            left += value
        low, high = total_interval_wh(report)
        if low is not None and high is not None:
            axis.errorbar(total, position, xerr=[[total - low], [high - total]], fmt="none",
                          ecolor="black", capsize=2, linewidth=0.8)
        rating = stars.loc[report.model, "stars"]
        rating = None if pd.isna(rating) else int(rating)
        axis.text(max(total, high or 0) + top * 0.02, position,
                  f"{rating} ★" if rating else "unrated", va="center", fontsize=7,
                  color=style.STAR_COLORS[rating], fontweight="bold")
    axis.set_yticks(list(positions), [r.model for r in order])
    axis.invert_yaxis()
    axis.set_xlim(0, top * 1.25)
    return any_estimate
