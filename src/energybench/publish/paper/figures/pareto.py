"""Energy per token against throughput, with the Pareto front (no other model is both faster
and more frugal than a model on it). Above MANY_MODELS models the scales are logarithmic and
only the front's models that fit without covering each other are named."""

from __future__ import annotations

from energybench.publish.paper import style
from energybench.publish.paper.figures.selection import MANY_MODELS, NAMED, count_note, on_log_scale
from energybench.publish.paper.ranking import total_marked_estimated
from energybench.run.report import Report


def points(reports: list[Report]) -> list[dict]:
    """Models with both figures; those whose total is marked estimated (energybench.publish.paper
    .ranking) say so. Throughput is generated tokens per
    second, as energy per token is per generated token (not AES's throughput, which counts
    the prompt tokens too)."""
    return [
        {
            "model": r.model,
            "throughput": r.summary.completion_tokens_per_second,
            "joules_per_token": r.metrics.joules_per_token,
            "estimated": total_marked_estimated(r.energy),
        }
        for r in reports
        if r.succeeded
        and r.metrics.joules_per_token is not None
        and r.summary.completion_tokens_per_second
    ]


def pareto_front(candidates: list[dict]) -> list[dict]:
    """The points no other point beats on both throughput (higher) and J/token (lower),
    by increasing throughput."""
    front = [
        p
        for p in candidates
        if not any(
            q["throughput"] >= p["throughput"]
            and q["joules_per_token"] <= p["joules_per_token"]
            and (q["throughput"], q["joules_per_token"]) != (p["throughput"], p["joules_per_token"])
            for q in candidates
        )
    ]
    return sorted(front, key=lambda p: p["throughput"])


def draw(reports: list[Report], outputs) -> None:
    many = len(reports) > MANY_MODELS
    fig, axis = style.figure(6.0, 4.6 if many else 4.2)
    candidates, off_scale = points(reports), []
    if many:  # on log scales: a figure at 0 or below is left off (and named), not clipped
        candidates, off_scale = on_log_scale(
            candidates, lambda p: (p["throughput"], p["joules_per_token"]), lambda p: p["model"]
        )
    front = pareto_front(candidates)
    names = []
    for estimated in (False, True):
        chosen = [p for p in candidates if p["estimated"] == estimated]
        if chosen:
            axis.scatter(
                [p["throughput"] for p in chosen],
                [p["joules_per_token"] for p in chosen],
                facecolors="none" if estimated else style.PALETTE["blue"],
                edgecolors=style.PALETTE["blue"],
                s=28,
                label=style.mark_estimated("model", estimated),
            )
    if front:
        # A ring on each front model: a front of one model draws no line, and its legend
        # entry must still point at something drawn.
        axis.step(
            [p["throughput"] for p in front],
            [p["joules_per_token"] for p in front],
            where="post",
            color=style.PALETTE["vermillion"],
            linewidth=1,
            marker="o",
            markersize=9,
            markerfacecolor="none",
            label="Pareto front",
        )
        named = front  # only the front is named: 50+ labels would be unreadable
        if many:  # its ends first, no more than may fit: each name costs the layout a measure
            ends = sorted(range(len(front)), key=lambda i: min(i, len(front) - 1 - i))
            named = [front[i] for i in ends[: 3 * NAMED]]
        names = [
            axis.annotate(
                style.short_key(p["model"]),
                (p["throughput"], p["joules_per_token"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
            for p in named
        ]
        style.key_note(fig, [p["model"] for p in named])
    else:
        axis.text(
            0.5,
            0.5,
            "no model has both energy per token and generated tokens / s",
            transform=axis.transAxes,
            ha="center",
            color=style.TEXT_GREY,
        )
    axis.set_xlabel("Generated (completion) tokens / s")
    axis.set_ylabel("Energy per generated token (J), all counted components")
    if candidates:
        axis.legend()
    if many:
        name_few(fig, axis, reports, candidates, off_scale, len(front), names)
    else:
        skipped = len(reports) - len(candidates)
        axis.set_title(
            "Energy per token vs generated tokens / s"
            + (f" ({skipped} model(s) without both figures not shown)" if skipped else "")
        )
    style.save(fig, outputs)


def name_few(
    fig,
    axis,
    reports: list[Report],
    candidates: list[dict],
    off_scale: list[str],
    front: int,
    names: list,
) -> None:
    """The large form: log scales, and of the ``names`` on the front only those that cover no
    other, the first first; the title counts them and the models not drawn: without both
    figures, or with one at 0 or below (``off_scale``)."""
    if candidates:
        style.log_scale(axis, "x", [p["throughput"] for p in candidates])
        style.log_scale(axis, "y", [p["joules_per_token"] for p in candidates])
    with_points = {p["model"] for p in candidates} | set(off_scale)
    missing = [why_no_point(r) for r in reports if r.model not in with_points]

    def title(named: int) -> None:
        axis.set_title(
            f"Energy per token vs generated tokens / s ({front} models on the "
            "front)\n" + count_note(len(candidates), named, missing, "models.csv", off_scale),
            fontsize=8,
            loc="left",
        )

    title(len(names))  # laid out with its final number of lines before the names are measured
    title(style.keep_apart(fig, names))


def why_no_point(report: Report) -> str:
    if not report.succeeded:
        return "run failed"
    if report.metrics.joules_per_token is None:
        return "no energy per token"
    return "no generated tokens / s"
