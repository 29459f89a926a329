"""Latency percentiles (median, p90, p99) of served models, one panel per metric. Above
MANY_MODELS served models, the distribution of each percentile across them (an ECDF)."""

from __future__ import annotations

from energybench.publish.paper import style
from energybench.publish.paper.figures.selection import (
    MANY_MODELS,
    OFF_SCALE,
    count_note,
    naming,
    on_log_scale,
)
from energybench.run.report import Report
from energybench.run.sections import LATENCY_METRICS

METRIC_TITLES = {
    "ttft_s": "Time to first token (s)",
    "itl_s": "Inter-token latency (s)",
    "tpot_s": "Time per output token (s)",
    "e2e_latency_s": "End-to-end latency (s)",
}
PERCENTILES = {
    "median": style.PALETTE["sky_blue"],
    "p90": style.PALETTE["blue"],
    "p99": style.PALETTE["vermillion"],
}
MARKERS = {"median": "o", "p90": "s", "p99": "^"}


def draw(reports: list[Report], outputs) -> None:
    served = [r for r in reports if r.latency]
    if not served:
        fig, axis = style.figure(5.0, 1.6)
        axis.text(
            0.5,
            0.5,
            "no served model (vLLM backend) in this set: no latencies",
            transform=axis.transAxes,
            ha="center",
            color=style.TEXT_GREY,
        )
        axis.set_axis_off()
        style.save(fig, outputs)
        return
    if len(served) > MANY_MODELS:
        draw_distribution(served, len(reports), outputs)
        return
    fig, axes = style.figure(
        8.0,
        style.model_axis_height(len(served)),
        ncols=len(LATENCY_METRICS),
        sharey=True,
        squeeze=False,
    )
    for axis, metric in zip(axes[0], LATENCY_METRICS):
        for position, report in enumerate(served):
            stats = report.latency.metric(metric)
            if not stats:
                axis.text(0, position, " none", va="center", fontsize=7, color=style.TEXT_GREY)
                continue
            axis.hlines(position, stats.median, stats.p99, color=style.TEXT_GREY, linewidth=0.8)
            for name, color in PERCENTILES.items():
                axis.scatter(
                    getattr(stats, name),
                    position,
                    color=color,
                    marker=MARKERS[name],
                    s=18,
                    zorder=3,
                    label=name if position == 0 else None,
                )
        axis.set_xlabel(METRIC_TITLES[metric])
        axis.set_xlim(left=0)
    axes[0, 0].set_yticks(range(len(served)), [style.short_key(r.model) for r in served])
    axes[0, 0].invert_yaxis()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=3)
    style.key_note(fig, [r.model for r in served])
    style.save(fig, outputs)


def draw_distribution(served: list[Report], models: int, outputs) -> None:
    """The large form: per metric, the share of served models whose median, p90 or p99 is at
    or below each latency (log scale); the models without that metric are counted, those with
    a percentile at 0 or below named, and neither is in the share."""
    fig, axes = style.figure(7.0, 5.8, nrows=2, ncols=2, sharey=True)
    for axis, metric in zip(axes.flat, LATENCY_METRICS):
        stats = {r.model: r.latency.metric(metric) for r in served}
        absent = {m for m, s in stats.items() if not s or None in (s.median, s.p90, s.p99)}
        shown, off_scale = on_log_scale(
            [(m, s) for m, s in stats.items() if m not in absent],
            lambda pair: (pair[1].median, pair[1].p90, pair[1].p99),
            lambda pair: pair[0],
        )
        present = [s for _, s in shown]
        for name, color in PERCENTILES.items():
            if present:
                axis.ecdf([getattr(s, name) for s in present], color=color, label=name, linewidth=1)
        if present:
            style.log_scale(axis, "x", [getattr(s, name) for s in present for name in PERCENTILES])
        axis.set_xlabel(METRIC_TITLES[metric])
        axis.set_title(
            f"{len(present)} models"
            + (f", {len(absent)} without" if absent else "")
            + ("\n" + naming(f"{len(off_scale)} {OFF_SCALE}", off_scale, 50) if off_scale else ""),
            fontsize=8,
        )
    for axis in axes[:, 0]:
        axis.set_ylabel("Share of served models at or below")
    fig.suptitle(
        f"Latency percentiles across served models ({models - len(served)} of {models} "
        f"models not served: no latency)\n{count_note(len(served), 0, [], 'latency.csv')}"
        "; a panel counts those without its metric or at 0 or below",
        fontsize=8,
    )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    style.save(fig, outputs)
