"""One run's power over time per component, with its idle baseline (its power, and the window
it was measured in), the model load, the warm-up, trial windows and steady-state windows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energybench.publish.paper import style
from energybench.run.report import COMPONENTS, Report
from energybench.run.sections import Idle

TRIAL_COLOR = style.PALETTE["yellow"]
STEADY_COLOR = style.PALETTE["purple"]
LOAD_COLOR = style.PALETTE["grey"]
STEADY_HATCH = ".."
# The idle and warm-up windows by pattern, in grey: five window colours beside the components'
# lines cannot all stay apart under colour-vision deficiency (tests/paper/test_palette.py).
WINDOW_HATCHES = {"idle baseline window": "\\\\", "warm-up": "||"}


def component_power(timeline: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per component, the power summed over its devices at each sample time; unknown (a gap
    in the line) where a device's reading is, rather than a dip to the other devices' sum."""
    samples = timeline.assign(missing=timeline["power_w"].isna())
    summed = {
        name: part.groupby("t", as_index=False).agg(
            power_w=("power_w", "sum"), estimated=("estimated", "any"), missing=("missing", "any")
        )
        for name, part in samples.groupby("component")
        if name in COMPONENTS
    }
    return {
        name: part.assign(power_w=part["power_w"].mask(part["missing"])).drop(columns="missing")
        for name, part in summed.items()
    }


def draw_without_timeline(model: str, why: str, outputs) -> None:
    """The figure of a run without a power timeline: it says why."""
    fig, axis = style.figure(7.0, 3.4)
    axis.text(
        0.5,
        0.5,
        f"{style.short_key(model)}: {why}",
        transform=axis.transAxes,
        ha="center",
        color=style.TEXT_GREY,
    )
    axis.set_axis_off()
    style.key_note(fig, [model])
    style.save(fig, outputs)


def draw_unusable(model: str, outputs) -> None:
    draw_without_timeline(model, "no usable report", outputs)


def draw(report: Report, timeline_path: str | Path | None, outputs) -> None:
    timeline = None
    if timeline_path and Path(timeline_path).is_file() and Path(timeline_path).stat().st_size:
        timeline = pd.read_csv(timeline_path)
    if timeline is None or "power_w" not in timeline:
        why = "run failed" if not report.succeeded else "no power timeline recorded"
        draw_without_timeline(report.model, why, outputs)
        return
    fig, axis = style.figure(7.0, 3.4)
    idle = report.idle or Idle()
    for name, series in component_power(timeline).items():
        color = style.COMPONENT_COLORS[name]
        estimated = bool(series["estimated"].any())
        axis.plot(
            series["t"],
            series["power_w"],
            color=color,
            linewidth=1,
            linestyle="--" if estimated else "-",
            label=style.mark_estimated(style.COMPONENT_LABELS[name], estimated),
        )
        watts = idle.watts(name)
        if watts is not None:
            axis.axhline(
                watts,
                color=color,
                linewidth=0.8,
                linestyle=":",
                label=f"{style.COMPONENT_LABELS[name]} idle baseline",
            )
    if report.load is not None:
        axis.axvspan(
            report.load.start_s, report.load.end_s, color=LOAD_COLOR, alpha=0.2, label="model load"
        )
    unrecorded = []
    for name, window in (("idle baseline window", idle), ("warm-up", report.warm_up)):
        if window is not None and window.start_s is not None and window.end_s is not None:
            axis.axvspan(
                window.start_s,
                window.end_s,
                facecolor="none",
                edgecolor=style.TEXT_GREY,
                linewidth=0.4,
                alpha=0.6,
                hatch=WINDOW_HATCHES[name],
                label=name,
            )
        elif report.succeeded:
            unrecorded.append(name)
    for number, trial in enumerate(report.trials):
        if trial.start_s is not None:
            axis.axvspan(
                trial.start_s,
                trial.end_s,
                color=TRIAL_COLOR,
                alpha=0.25,
                label="trial window" if number == 0 else None,
            )
    steady = [
        t
        for t in (report.steady_state.trials if report.steady_state else [])
        if t.energy is not None and t.start_s is not None
    ]
    for number, trial in enumerate(steady):
        axis.axvspan(
            trial.start_s,
            trial.end_s,
            facecolor="none",
            edgecolor=STEADY_COLOR,
            hatch=STEADY_HATCH,
            label="steady state" if number == 0 else None,
        )
    if not any(t.start_s is not None for t in report.trials):
        unrecorded.append("trial windows")
    if unrecorded:  # reports from before a window was recorded
        axis.text(
            0.01,
            0.98,
            f"not recorded in this report: {', '.join(unrecorded)}",
            transform=axis.transAxes,
            va="top",
            fontsize=7,
            color=style.TEXT_GREY,
        )
    axis.set_xlabel("Time since the monitor started (s)")
    axis.set_ylabel("Power (W)")
    axis.set_ylim(bottom=0)
    axis.set_title(f"Power during the run of {style.short_key(report.model)}")
    fig.legend(loc="outside right upper")
    style.key_note(fig, [report.model])
    style.save(fig, outputs)
