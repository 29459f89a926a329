"""Prefill and decode energy per model, per query (stacked: their sum is the query's) and per
token (prefill per prompt token, decode per generated token, side by side); an invalid split
is drawn as invalid, with its reason, never as zero. Above MANY_MODELS models, prefill
against decode, per query and per token, one point per model, the extremes named, the models
without a valid split a hatched share of all."""

from __future__ import annotations

from energybench.publish.paper import style
from energybench.publish.paper.figures.selection import (
    MANY_MODELS,
    count_note,
    extremes,
    on_log_scale,
)
from energybench.run.energy.phases import PER_UNIT_FIGURES
from energybench.run.report import Report

PHASE_COLORS = {"prefill": style.PALETTE["sky_blue"], "decode": style.PALETTE["blue"]}
MJ_PER_J = 1000.0  # per-token figures are drawn in mJ: a token's energy is a small fraction of 1 J
UNITS = {  # per unit drawn: its prefill and decode figures, their scale, unit and words
    "query": ("prefill_j_per_query", "decode_j_per_query", 1.0, "J", "per query"),
    "token": (
        "prefill_j_per_prompt_token",
        "decode_j_per_generated_token",
        MJ_PER_J,
        "mJ",
        "per token: prefill per prompt token, decode per generated token",
    ),
}


def split_of(report: Report) -> tuple[dict | None, str | None]:
    """Prefill and decode per query and per token (``PER_UNIT_FIGURES``), summed over the
    counted components, or why there is none."""
    if not report.succeeded:
        return None, "run failed"
    if not report.phases:
        return None, "no prefill/decode split (backend measures none)"
    components = report.energy.components
    counted = [c for c, block in components.items() if block.gross_joules is not None]
    totals, reasons = dict.fromkeys(PER_UNIT_FIGURES, 0.0), []
    for name in counted:
        # The schema leaves the phases section open: a component may have no mean entry.
        mean = report.phases.mean.get(name)
        if mean is None:
            reasons.append(f"no {style.COMPONENT_LABELS[name]} prefill/decode figure in the report")
            continue
        invalid = [
            statistics.reason
            for statistics in (mean.prefill, mean.decode)
            if statistics.mean is None
        ]
        if invalid:
            reasons += mean.invalid_reasons or invalid
            continue
        per_unit = report.phases_per_unit.get(name, {})
        if any(per_unit.get(figure) is None for figure in PER_UNIT_FIGURES):
            reasons.append(
                f"no query or token counted for the {style.COMPONENT_LABELS[name]} "
                "prefill/decode split"
            )
            continue
        for figure in PER_UNIT_FIGURES:
            totals[figure] += per_unit[figure]
    if reasons or not counted:
        return None, "invalid: " + ("; ".join(dict.fromkeys(reasons)) or "no component counted")
    estimated = any(components[c].estimated for c in counted)
    return {**totals, "estimated": estimated}, None


def draw(reports: list[Report], outputs) -> None:
    if len(reports) > MANY_MODELS:
        draw_scatter(reports, outputs)
        return
    fig, (per_query, per_token) = style.figure(
        8.0, style.model_axis_height(len(reports)), ncols=2, sharey=True
    )
    for position, report in enumerate(reports):
        split, why = split_of(report)
        if split is None:
            for axis in (per_query, per_token):
                axis.axhspan(
                    position - 0.4,
                    position + 0.4,
                    facecolor="none",
                    alpha=0.4,
                    edgecolor=style.TEXT_GREY,
                    hatch=style.INVALID_HATCH,
                    linewidth=0.5,
                )
            per_query.text(
                0.01,
                position,
                why[:55],
                va="center",
                fontsize=7,
                transform=per_query.get_yaxis_transform(),
                color=style.TEXT_GREY,
            )
            continue
        hatch = style.ESTIMATE_HATCH if split["estimated"] else None
        prefill, decode = UNITS["query"][:2]
        per_query.barh(
            position,
            split[prefill],
            color=PHASE_COLORS["prefill"],
            hatch=hatch,
            edgecolor="white",
            linewidth=0.5,
        )
        per_query.barh(
            position,
            split[decode],
            left=split[prefill],
            color=PHASE_COLORS["decode"],
            hatch=hatch,
            edgecolor="white",
            linewidth=0.5,
        )
        prefill, decode, scale = UNITS["token"][:3]
        for offset, (part, figure) in zip((-0.2, 0.2), (("prefill", prefill), ("decode", decode))):
            per_token.barh(
                position + offset,
                split[figure] * scale,
                height=0.4,
                color=PHASE_COLORS[part],
                hatch=hatch,
                edgecolor="white",
                linewidth=0.5,
            )
    per_query.set_yticks(range(len(reports)), [style.short_key(r.model) for r in reports])
    per_query.invert_yaxis()
    for axis, unit in ((per_query, "query"), (per_token, "token")):
        axis.set_xlabel(f"Energy ({UNITS[unit][3]})")
        axis.set_xlim(left=0)
    per_query.set_title("Per query: prefill + decode", fontsize=8)
    per_token.set_title(
        "Per token: prefill per prompt token,\ndecode per generated token", fontsize=8
    )
    handles = [style.patch(color, part) for part, color in PHASE_COLORS.items()]
    handles += [
        style.patch("white", "estimated", hatch=style.ESTIMATE_HATCH),
        style.patch("white", "invalid or missing split", hatch=style.INVALID_HATCH),
    ]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncol=4,
        title_fontsize=8,
        title="Prefill and decode energy, mean over trials, counted components",
    )
    style.key_note(fig, [r.model for r in reports])
    style.save(fig, outputs)


def draw_scatter(reports: list[Report], outputs) -> None:
    """The large form: prefill against decode energy (log scales), per query and per token,
    one point per model with a valid split above 0 in both phases (hollow: estimated; a phase
    at 0 or below is named in the note, not drawn); below, the share of models without a
    valid split, hatched."""
    splits = [(report, *split_of(report)) for report in reports]
    valid = sorted(
        ((r, s) for r, s, _ in splits if s),
        key=lambda pair: (
            pair[1]["prefill_j_per_query"] + pair[1]["decode_j_per_query"],
            pair[0].model,
        ),
    )
    missing = [why for _, split, why in splits if split is None]
    fig, axes = style.figure(8.0, 5.8, nrows=2, ncols=2, gridspec_kw={"height_ratios": [10, 1]})
    grid = axes[1][0].get_gridspec()
    for axis in axes[1]:
        axis.remove()
    share = fig.add_subplot(grid[1, :])
    color = PHASE_COLORS["decode"]
    off_scale, named = {}, set()
    for axis, unit in zip(axes[0], UNITS):
        prefill, decode, scale, symbol, words = UNITS[unit]
        shown, left_off = on_log_scale(
            valid, lambda pair: (pair[1][prefill], pair[1][decode]), lambda pair: pair[0].model
        )
        off_scale.update(dict.fromkeys(left_off))
        xs = [s[prefill] * scale for _, s in shown]
        ys = [s[decode] * scale for _, s in shown]
        axis.scatter(
            xs,
            ys,
            s=9,
            linewidths=0.6,
            edgecolors=color,
            facecolors=["none" if s["estimated"] else color for _, s in shown],
        )
        if shown:
            style.log_scale(axis, "x", xs)
            style.log_scale(axis, "y", ys)
        least, most = extremes(shown)
        named.update(r.model for r, _ in least + most)
        for ends, corner in ((least, "upper left"), (most, "lower right")):
            style.callouts(
                axis,
                [
                    (
                        s[prefill] * scale,
                        s[decode] * scale,
                        f"{style.short_key(r.model)}: "
                        f"{s[prefill] * scale:.3g} + {s[decode] * scale:.3g}",
                    )
                    for r, s in ends
                ],
                corner,
            )
        axis.set_xlabel(f"Prefill ({symbol})")
        axis.set_ylabel(f"Decode ({symbol})")
        axis.set_title(words.capitalize().replace(": ", ":\n"), fontsize=8, loc="left")
    drawn = len(valid) - len(off_scale)
    fig.suptitle(
        "Prefill and decode energy, mean over trials, counted components "
        "(hollow: estimated)\n"
        + count_note(drawn, len(named), missing, "phases.csv", list(off_scale)),
        fontsize=8,
        x=0.0,
        ha="left",
    )
    share.barh(0, len(valid), color=color, label=f"valid split: {len(valid)}")
    share.barh(
        0,
        len(missing),
        left=len(valid),
        facecolor="none",
        edgecolor=style.TEXT_GREY,
        hatch=style.INVALID_HATCH,
        linewidth=0.5,
        label=f"invalid or missing split: {len(missing)}",
    )
    share.set_xlim(0, max(len(reports), 1))
    share.set_axis_off()
    share.legend(loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2)
    style.key_note(fig, sorted(named))
    style.save(fig, outputs)
