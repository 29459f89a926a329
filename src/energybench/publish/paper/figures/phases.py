"""Prefill and decode energy per model, stacked; an invalid split is drawn as invalid, with
its reason, never as zero. Above MANY_MODELS models, prefill against decode, one point per
model, the extremes named, the models without a valid split a hatched share of all."""

from __future__ import annotations

from energybench.publish.paper import style
from energybench.publish.paper.figures.selection import MANY_MODELS, count_note, extremes, on_log_scale
from energybench.run.report import Report

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
        # The schema leaves the phases section open: a component may have no mean entry.
        mean = report.phases.mean.get(name)
        if mean is None:
            reasons.append(f"no {style.COMPONENT_LABELS[name]} prefill/decode figure in the report")
            continue
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
    if len(reports) > MANY_MODELS:
        draw_scatter(reports, outputs)
        return
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
    axis.set_yticks(range(len(reports)), [style.short_key(r.model) for r in reports])
    axis.invert_yaxis()
    handles = [style.patch(color, part) for part, color in PHASE_COLORS.items()]
    handles += [style.patch("white", "estimated", hatch=style.ESTIMATE_HATCH),
                style.patch("white", "invalid or missing split", hatch=style.INVALID_HATCH)]
    fig.legend(handles=handles, loc="outside upper center", ncol=4)
    axis.set_xlabel("Energy per trial (J), mean over trials, counted components")
    axis.set_title("Prefill and decode energy")
    style.key_note(fig, [r.model for r in reports])
    style.save(fig, outputs)


def draw_scatter(reports: list[Report], outputs) -> None:
    """The large form: prefill against decode energy (log scales), one point per model with a
    valid split above 0 in both phases (hollow: estimated; a phase at 0 or below is named in
    the note, not drawn); below, the share of models without a valid split, hatched."""
    splits = [(report, *split_of(report)) for report in reports]
    valid = sorted(((r, s) for r, s, _ in splits if s),
                   key=lambda pair: (pair[1]["prefill"] + pair[1]["decode"], pair[0].model))
    missing = [why for _, split, why in splits if split is None]
    shown, off_scale = on_log_scale(valid, lambda pair: (pair[1]["prefill"], pair[1]["decode"]),
                                    lambda pair: pair[0].model)
    fig, (axis, share) = style.figure(6.0, 5.6, nrows=2, gridspec_kw={"height_ratios": [10, 1]})
    color = PHASE_COLORS["decode"]
    axis.scatter([s["prefill"] for _, s in shown], [s["decode"] for _, s in shown], s=9,
                 linewidths=0.6, edgecolors=color,
                 facecolors=["none" if s["estimated"] else color for _, s in shown])
    if shown:
        style.log_scale(axis, "x", [s["prefill"] for _, s in shown])
        style.log_scale(axis, "y", [s["decode"] for _, s in shown])
    least, most = extremes(shown)
    for named, corner in ((least, "upper left"), (most, "lower right")):
        style.callouts(axis, [(s["prefill"], s["decode"],
                               f"{style.short_key(r.model)}: {s['prefill']:.3g} + "
                               f"{s['decode']:.3g} J") for r, s in named], corner)
    axis.set_xlabel("Prefill energy per trial (J)")
    axis.set_ylabel("Decode energy per trial (J)")
    axis.set_title("Prefill and decode energy, mean over trials, counted components "
                   "(hollow: estimated)\n"
                   + count_note(len(shown), len(least) + len(most), missing, "phases.csv",
                                off_scale),
                   fontsize=8, loc="left")
    share.barh(0, len(valid), color=color, label=f"valid split: {len(valid)}")
    share.barh(0, len(missing), left=len(valid), facecolor="none", edgecolor=style.TEXT_GREY,
               hatch=style.INVALID_HATCH, linewidth=0.5,
               label=f"invalid or missing split: {len(missing)}")
    share.set_xlim(0, max(len(reports), 1))
    share.set_axis_off()
    share.legend(loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2)
    style.save(fig, outputs)
