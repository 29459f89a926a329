"""One run's power over time per component, with its idle baseline, trial windows and
steady-state windows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energybench.paper import style
from energybench.report import COMPONENTS

TRIAL_COLOR = style.PALETTE["yellow"]
STEADY_COLOR = style.PALETTE["purple"]


def component_power(timeline: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per component, the power summed over its devices at each sample time."""
    samples = timeline.dropna(subset=["power_w"])
    return {name: part.groupby("t", as_index=False).agg(power_w=("power_w", "sum"),
                                                         estimated=("estimated", "any"))
            for name, part in samples.groupby("component") if name in COMPONENTS}


def draw(report: dict, timeline_path: str | Path | None, outputs) -> None:
    fig, axis = style.figure(7.0, 3.4)
    timeline = None
    if timeline_path and Path(timeline_path).is_file() and Path(timeline_path).stat().st_size:
        timeline = pd.read_csv(timeline_path)
    if timeline is None or "power_w" not in timeline:
        why = "run failed" if report["status"] != "succeeded" else "no power timeline recorded"
        axis.text(0.5, 0.5, f"{report['model']}: {why}", transform=axis.transAxes,
                  ha="center", color=style.TEXT_GREY)
        axis.set_axis_off()
        style.save(fig, outputs)
        return
    idle = (report.get("idle") or {}).get("components", {})
    for name, series in component_power(timeline).items():
        color = style.COMPONENT_COLORS[name]
        estimated = bool(series["estimated"].any())
        axis.plot(series["t"], series["power_w"], color=color, linewidth=1,
                  linestyle="--" if estimated else "-",
                  label=style.mark_estimated(style.COMPONENT_LABELS[name], estimated))
        watts = (idle.get(name) or {}).get("watts")
        if watts is not None:
            axis.axhline(watts, color=color, linewidth=0.8, linestyle=":",
                         label=f"{style.COMPONENT_LABELS[name]} idle baseline")
    for number, trial in enumerate(report["trials"]):
        if trial.get("start_s") is not None:
            axis.axvspan(trial["start_s"], trial["end_s"], color=TRIAL_COLOR, alpha=0.25,
                         label="trial window" if number == 0 else None)
    steady = [t for t in (report.get("steady_state") or {}).get("trials", [])
              if t.get("energy") is not None and t.get("start_s") is not None]
    for number, trial in enumerate(steady):
        axis.axvspan(trial["start_s"], trial["end_s"], facecolor="none", edgecolor=STEADY_COLOR,
                     hatch="..", label="steady state" if number == 0 else None)
    if not any(t.get("start_s") is not None for t in report["trials"]):
        axis.text(0.01, 0.98, "trial windows not recorded in this report",
                  transform=axis.transAxes, va="top", fontsize=7, color=style.TEXT_GREY)
    axis.set_xlabel("Time since the monitor started (s)")
    axis.set_ylabel("Power (W)")
    axis.set_ylim(bottom=0)
    axis.set_title(f"Power during the run of {report['model']}")
    fig.legend(loc="outside right upper")
    style.save(fig, outputs)
