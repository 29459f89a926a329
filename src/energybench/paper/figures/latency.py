"""Latency percentiles (median, p90, p99) of served models, one panel per metric."""

from __future__ import annotations

from energybench.paper import style
from energybench.report import Report
from energybench.sections import LATENCY_METRICS

METRIC_TITLES = {"ttft_s": "Time to first token (s)", "itl_s": "Inter-token latency (s)",
                 "tpot_s": "Time per output token (s)", "e2e_latency_s": "End-to-end latency (s)"}
PERCENTILES = {"median": style.PALETTE["sky_blue"], "p90": style.PALETTE["blue"],
               "p99": style.PALETTE["vermillion"]}
MARKERS = {"median": "o", "p90": "s", "p99": "^"}


def draw(reports: list[Report], outputs) -> None:
    served = [r for r in reports if r.latency]
    if not served:
        fig, axis = style.figure(5.0, 1.6)
        axis.text(0.5, 0.5, "no served model (vLLM backend) in this set: no latencies",
                  transform=axis.transAxes, ha="center", color=style.TEXT_GREY)
        axis.set_axis_off()
        style.save(fig, outputs)
        return
    fig, axes = style.figure(8.0, style.model_axis_height(len(served)), ncols=len(LATENCY_METRICS),
                             sharey=True, squeeze=False)
    for axis, metric in zip(axes[0], LATENCY_METRICS):
        for position, report in enumerate(served):
            stats = report.latency.metric(metric)
            if not stats:
                axis.text(0, position, " none", va="center", fontsize=7, color=style.TEXT_GREY)
                continue
            axis.hlines(position, stats.median, stats.p99, color=style.TEXT_GREY,
                        linewidth=0.8)
            for name, color in PERCENTILES.items():
                axis.scatter(getattr(stats, name), position, color=color, marker=MARKERS[name], s=18,
                             zorder=3, label=name if position == 0 else None)
        axis.set_xlabel(METRIC_TITLES[metric])
        axis.set_xlim(left=0)
    axes[0, 0].set_yticks(range(len(served)), [r.model for r in served])
    axes[0, 0].invert_yaxis()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=3)
    style.save(fig, outputs)
