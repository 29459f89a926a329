"""Prefill and decode energy per model, stacked; an invalid split is drawn as invalid, with
its reason, never as zero."""

from __future__ import annotations

from energybench.paper import style
from energybench.report import Report

PHASE_COLORS = {"prefill": style.PALETTE["sky_blue"], "decode": style.PALETTE["blue"]}


def split_of(report: Report) -> tuple[dict | None, str | None]:
    """Mean prefill and decode joules over the counted components, or why there is none."""
    if not report.succeeded:
        return None, "run failed"
    if not report.phases:
        return None, "no prefill/decode split (backend measures none)"
    components = report.energy.components
    counted = [c for c, block in components.items() if block.gross_joules is not None]
    totals, reasons = {"prefill": 0.0, "decode": 0.0}, []
    for name in counted:
        mean = report.phases.mean[name]
        for part in totals:
            statistics = getattr(mean, part)
            if statistics.mean is None:
                reasons += mean.invalid_reasons or [statistics.reason]
            else:
                totals[part] += statistics.mean
    if reasons or not counted:
        return None, "invalid: " + ("; ".join(dict.fromkeys(reasons)) or "no component counted")
    estimated = any(components[c].estimated for c in counted)
    return {**totals, "estimated": estimated}, None


def draw(reports: list[Report], outputs) -> None:
    fig, axis = style.figure(7.0, style.model_axis_height(len(reports)))
    for position, report in enumerate(reports):
        split, why = split_of(report)
        if split is None:
            axis.axhspan(position - 0.4, position + 0.4, facecolor="none", alpha=0.4,
                         edgecolor=style.TEXT_GREY, hatch=style.INVALID_HATCH, linewidth=0.5)
            axis.text(0.01, position, why[:110], va="center", fontsize=7,
                      transform=axis.get_yaxis_transform(), color=style.TEXT_GREY)
            continue
        left = 0.0
        for part, color in PHASE_COLORS.items():
            axis.barh(position, split[part], left=left, color=color,
                      hatch=style.ESTIMATE_HATCH if split["estimated"] else None,
                      edgecolor="white", linewidth=0.5)
            left += split[part]
    axis.set_yticks(range(len(reports)), [r.model for r in reports])
    axis.invert_yaxis()
    handles = [style.patch(color, part) for part, color in PHASE_COLORS.items()]
    handles += [style.patch("white", "estimated", hatch=style.ESTIMATE_HATCH),
                style.patch("white", "invalid or missing split", hatch=style.INVALID_HATCH)]
    fig.legend(handles=handles, loc="outside upper center", ncol=4)
    axis.set_xlabel("Energy per trial (J), mean over trials, counted components")
    axis.set_title("Prefill and decode energy")
    style.save(fig, outputs)
