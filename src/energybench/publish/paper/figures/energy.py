"""Energy per 1,000 queries per model: stacked by component, the interval over trials on the
total, the star rating beside it, grouped by rating group and ranked by the figure the stars
rate (measured GPU energy, energybench.publish.paper.ranking). Above MANY_MODELS models: that figure,
one point per model by rank in its group, the interval as a band, the extremes named."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.lines import Line2D

from energybench.publish.paper import style
from energybench.publish.paper.figures.selection import (
    MANY_MODELS,
    count_note,
    extremes,
    interval_of,
    measured_components,
    naming,
    on_log_scale,
    total_interval_wh,
    why_missing,
)
from energybench.publish.paper.ranking import rank_key, rated_figure
from energybench.run.report import Report


def draw(reports: list[Report], ratings: pd.DataFrame, outputs) -> None:
    if len(reports) > MANY_MODELS:
        draw_ranked(reports, ratings, outputs)
        return
    stars = ratings.set_index("model")
    groups = sorted({stars.loc[r.model, "group"] for r in reports}) or ["no models"]
    members = {g: [r for r in reports if stars.loc[r.model, "group"] == g] for g in groups}
    heights = [max(len(m), 1) + 1.5 for m in members.values()]
    fig, axes = style.figure(
        7.0,
        style.model_axis_height(sum(heights) - 1.5 * len(groups), 1.0 + 0.6 * len(groups)),
        nrows=len(groups),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    components = measured_components(reports)
    # One scale for every panel: groups are compared too, and 0.046 must not look like 0.078.
    top = max(
        [
            value
            for r in reports
            for value in (r.metrics.total_wh_per_1000_queries, total_interval_wh(r)[1])
            if value is not None
        ]
        + [1e-12]
    )
    any_estimate = False
    for axis, group in zip(axes[:, 0], groups):
        any_estimate |= draw_group(axis, members[group], stars, components, top)
        axis.set_title(f"Rating group: {group}", loc="left")
    axes[-1, 0].set_xlabel(
        "Energy per 1,000 queries (Wh), gross, mean over trials\n"
        "error bars: 95% interval over trials, where there are two or more\n"
        "rows ranked by measured GPU energy, what the stars rate"
    )
    handles = [
        style.patch(style.COMPONENT_COLORS[c], style.COMPONENT_LABELS[c]) for c in components
    ]
    if any_estimate:
        handles.append(style.patch("white", "estimated", hatch=style.ESTIMATE_HATCH))
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 6))
    style.key_note(fig, [r.model for r in reports])
    style.save(fig, outputs)


def draw_group(
    axis, reports: list[Report], stars: pd.DataFrame, components: list[str], top: float
) -> bool:
    """One rating group's bars, ranked by the rated figure (the models without one after it),
    on a scale to ``top`` (the figure's largest total or bound); True when any part is
    estimated."""
    order = sorted(reports, key=rank_key)
    positions = range(len(order))
    any_estimate = False
    for position, report in zip(positions, order):
        total = report.metrics.total_wh_per_1000_queries
        if total is None:
            axis.text(
                0,
                position,
                f"  no figure: {why_missing(report)}",
                va="center",
                fontsize=7,
                color=style.TEXT_GREY,
            )
            continue
        left = 0.0
        for name in components:
            value = report.wh_per_1000_queries[name]
            if value is None:
                continue
            estimated = report.energy.components[name].estimated
            axis.barh(
                position,
                value,
                left=left,
                color=style.COMPONENT_COLORS[name],
                hatch=style.ESTIMATE_HATCH if estimated else None,
                edgecolor="white",
                linewidth=0.5,
            )
            any_estimate |= estimated
            left += value
        low, high = total_interval_wh(report)
        if low is not None and high is not None:
            # Rounding can put the mean a hair outside its stored interval: no negative bar.
            axis.errorbar(
                total,
                position,
                xerr=[[max(total - low, 0)], [max(high - total, 0)]],
                fmt="none",
                ecolor="black",
                capsize=2,
                linewidth=0.8,
            )
        rating = stars.loc[report.model, "stars"]
        rating = None if pd.isna(rating) else int(rating)
        axis.text(
            max(total, high or 0) + top * 0.02,
            position,
            f"{rating} ★" if rating else "unrated",
            va="center",
            fontsize=7,
            color=style.STAR_COLORS[rating],
            fontweight="bold",
        )
    axis.set_yticks(list(positions), [style.short_key(r.model) for r in order])
    axis.invert_yaxis()
    axis.set_xlim(0, top * 1.25)
    return any_estimate


def draw_ranked(reports: list[Report], ratings: pd.DataFrame, outputs) -> None:
    """The large form: per rating group, the models ranked by measured GPU energy, the figure
    the stars rate (log scale)."""
    stars = ratings.set_index("model")
    group_of = stars["group"].to_dict()
    groups = sorted({group_of[r.model] for r in reports})
    fig, axes = style.figure(7.0, 1.2 + 2.8 * len(groups), nrows=len(groups), squeeze=False)
    off_scale = False
    for axis, group in zip(axes[:, 0], groups):
        note, off = rank_group(
            axis, [r for r in reports if group_of[r.model] == group], stars["stars"]
        )
        off_scale |= off
        axis.set_title(f"Rating group: {group}: {note}", loc="left", fontsize=8)
    axes[-1, 0].set_xlabel("Rank in the rating group by measured GPU energy (1: least)")
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            color=style.STAR_COLORS[rating],
            markersize=4,
            label=f"{rating} ★" if rating else "unrated",
        )
        for rating in style.STAR_COLORS
    ]
    handles += [
        style.patch(style.PALETTE["grey"], "95% interval over trials"),
        style.patch("white", "no measured GPU figure", hatch=style.INVALID_HATCH),
    ]
    if off_scale:
        handles += [
            style.patch("white", "0 or below: not on the log scale", hatch=style.OFF_SCALE_HATCH),
            Line2D(
                [],
                [],
                linestyle="none",
                marker="v",
                color=style.TEXT_GREY,
                markersize=4,
                label="interval reaching 0 or below",
            ),
        ]
    fig.legend(handles=handles, loc="outside upper center", ncol=5)
    style.save(fig, outputs)


def rank_group(axis, reports: list[Report], stars: pd.Series) -> tuple[str, bool]:
    """One group's models by rank: the rated figure (measured GPU energy per 1,000 queries)
    with its interval as a band, coloured by stars; those without one a hatched span after
    the last rank, never drawn at 0. A figure at or below 0 keeps its rank (the first) in a
    span of its own, with no point: a log scale has no place for it. An interval reaching 0
    or below is drawn from the axis' bottom, marked there (▼). Returns the note that counts
    them all, and whether there was a figure at or below 0."""
    rated = {r.model: rated_figure(r) for r in reports}
    ranked = sorted((r for r in reports if rated[r.model][0] is not None), key=rank_key)
    missing = [rated[r.model][1] for r in reports if rated[r.model][0] is None]
    # Ranked from the least: the figures at 0 or below come first, and keep their ranks.
    shown, off_scale = on_log_scale(ranked, lambda r: (rated[r.model][0],), lambda r: r.model)
    ranks = range(len(off_scale) + 1, len(ranked) + 1)
    totals = [rated[r.model][0] for r in shown]
    intervals = [interval_of(r, "wh_per_1000_queries") for r in shown]
    reaching = []
    if shown:  # the scale takes in the bands too, but for bounds it cannot show
        style.log_scale(
            axis, "y", totals + [b for i in intervals for b in i if b is not None and b > 0]
        )
        bottom = axis.get_ylim()[0]
        reaching = [
            (rank, r.model)
            for rank, r, (low, high) in zip(ranks, shown, intervals)
            if None not in (low, high) and low <= 0
        ]
        axis.fill_between(
            ranks,
            [math.nan if None in i else max(i[0], bottom) for i in intervals],
            [math.nan if None in i else i[1] for i in intervals],
            color=style.PALETTE["grey"],
            alpha=0.4,
            linewidth=0,
        )
        if reaching:
            axis.scatter(
                [rank for rank, _ in reaching],
                [bottom] * len(reaching),
                marker="v",
                s=12,
                color=style.TEXT_GREY,
                clip_on=False,
                zorder=3,
            )
    rating = [None if pd.isna(stars[r.model]) else int(stars[r.model]) for r in shown]
    colors = [style.STAR_COLORS[s] for s in rating]
    axis.scatter(ranks, totals, s=9, linewidths=0.6, color=colors, zorder=3)
    for hatch, start, end in (
        (style.OFF_SCALE_HATCH, 0, len(off_scale)),
        (style.INVALID_HATCH, len(ranked), len(reports)),
    ):
        if end > start:
            axis.axvspan(
                start + 0.5,
                end + 0.5,
                facecolor="none",
                alpha=0.4,
                edgecolor=style.TEXT_GREY,
                hatch=hatch,
                linewidth=0.5,
            )
    axis.set_xlim(0, len(reports) + 1)
    axis.set_ylabel("GPU Wh per 1,000 queries\n(gross, mean over trials)")
    least, most = extremes(list(zip(ranks, totals, shown)))
    for named, corner in ((least, "upper left"), (most, "lower right")):
        style.callouts(
            axis,
            [
                (rank, total, f"{rank}. {style.short_key(r.model)}: {total:.3g} Wh")
                for rank, total, r in named
            ],
            corner,
        )
    note = count_note(len(shown), len(least) + len(most), missing, "models.csv", off_scale)
    if reaching:
        note += "\n" + naming(
            f"interval of {len(reaching)} reaches 0 or below: its band "
            "drawn from the axis' bottom (▼)",
            [m for _, m in reaching],
        )
    return note, bool(off_scale or reaching)
