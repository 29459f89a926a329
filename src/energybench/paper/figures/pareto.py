"""Energy per token against throughput, with the Pareto front (no other model is both faster
and more frugal than a model on it)."""

from __future__ import annotations

from energybench.paper import style
from energybench.report import Report


def points(reports: list[Report]) -> list[dict]:
    """Models with both figures; estimated ones say so. Throughput is generated tokens per
    second, as energy per token is per generated token (not AES's throughput, which counts
    the prompt tokens too)."""
    return [{"model": r.model, "throughput": r.summary.completion_tokens_per_second,
             "joules_per_token": r.metrics.joules_per_token,
             "estimated": r.energy.total.estimated}
            for r in reports
            if r.succeeded and r.metrics.joules_per_token is not None
            and r.summary.completion_tokens_per_second]


def pareto_front(candidates: list[dict]) -> list[dict]:
    """The points no other point beats on both throughput (higher) and J/token (lower),
    by increasing throughput."""
    front = [p for p in candidates
             if not any(q["throughput"] >= p["throughput"]
                        and q["joules_per_token"] <= p["joules_per_token"]
                        and (q["throughput"], q["joules_per_token"])
                        != (p["throughput"], p["joules_per_token"]) for q in candidates)]
    return sorted(front, key=lambda p: p["throughput"])


def draw(reports: list[Report], outputs) -> None:
    fig, axis = style.figure(6.0, 4.2)
    candidates = points(reports)
    front = pareto_front(candidates)
    for estimated in (False, True):
        chosen = [p for p in candidates if p["estimated"] == estimated]
        if chosen:
            axis.scatter([p["throughput"] for p in chosen],
                         [p["joules_per_token"] for p in chosen],
                         facecolors="none" if estimated else style.PALETTE["blue"],
                         edgecolors=style.PALETTE["blue"], s=28,
                         label=style.mark_estimated("model", estimated))
    if front:
        axis.step([p["throughput"] for p in front], [p["joules_per_token"] for p in front],
                  where="post", color=style.PALETTE["vermillion"], linewidth=1,
                  label="Pareto front")
        for p in front:  # only the front is named: 50+ labels would be unreadable
            axis.annotate(p["model"], (p["throughput"], p["joules_per_token"]), fontsize=7,
                          xytext=(4, 4), textcoords="offset points")
    else:
        axis.text(0.5, 0.5, "no model has both energy per token and throughput",
                  transform=axis.transAxes, ha="center", color=style.TEXT_GREY)
    axis.set_xlabel("Throughput (generated tokens/s)")
    axis.set_ylabel("Energy per generated token (J), all counted components")
    skipped = len(reports) - len(candidates)
    axis.set_title("Energy per token vs throughput"
                   + (f" ({skipped} model(s) without both figures not shown)" if skipped else ""))
    if candidates:
        axis.legend()
    style.save(fig, outputs)
