"""A label per model in the manner of AI Energy Score's: model, task, class, GPU energy per
1,000 queries, stars, hardware, date and protocol, and a link line to the model's Hugging Face
page (AES's label has a QR code there; a link line needs no library, and is a live link in
the SVG and PDF). An estimate says so on its face; an unrated model shows why instead of
stars."""

from __future__ import annotations

import textwrap

import pandas as pd

from energybench.run.energy.units import significant
from energybench.publish.paper import style
from energybench.publish.paper.hardware import hardware_of
from energybench.publish.paper.links import hub_url
from energybench.run.quantization import named
from energybench.run.report import Report
from energybench.run.tasks import task_in_words

WIDTH_IN, HEIGHT_IN = 3.2, 5.0
SMALL_PRINT = 7  # points: the smallest type on a label
SMALL_PRINT_WIDTH = 44  # characters of small print a line holds
ID_WIDTH = 50  # characters of a Hub id that fit the label's width at its size
LINK_LINE_Y = 0.04  # the link line's foot, above the frame's bottom edge


def full_key(model: str) -> list[str]:
    """A key the label shows shortened, in full, as lines of the label's small print."""
    if style.short_key(model) == model:
        return []
    return textwrap.wrap(f"model key: {model}", SMALL_PRINT_WIDTH, break_on_hyphens=False)


def protocol_of(report: Report) -> str:
    config = report.config
    return (
        f"energybench {report.provenance.energybench_version or '?'}, "
        f"{config.get('backend')} backend, {config.get('num_prompts')} prompts, "
        f"{config.get('max_new_tokens')} new tokens, {len(report.trials)} trial(s)"
    )


def group_in_words(group: str) -> str:
    """A rating group ("text_generation/B", or a task alone) in words, as the task line."""
    task, _, model_class = group.partition("/")
    return task_in_words(task, model_class or None)


def headline(report: Report, rating: dict) -> tuple[str, str]:
    """The big figure and the line under it."""
    value = rating["gpu_wh_per_1000_queries"]
    if value is None or pd.isna(value):
        return "not measured", "GPU energy per 1,000 queries"
    text = f"{significant(value)} Wh"
    return (
        f"{text} (estimate)" if report.energy.gpu.estimated else text
    ), "GPU energy per 1,000 queries"


def draw(report: Report, rating: dict, outputs) -> None:
    fig, axis = style.figure(WIDTH_IN, HEIGHT_IN)
    axis.set_axis_off()
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.add_patch(style.rectangle(style.TEXT_GREY))
    axis.add_patch(style.header_bar(style.LABEL_COLOR))
    config = report.config
    text = dict(transform=axis.transAxes, ha="center")
    axis.text(
        0.5,
        0.937,
        "Energy label",
        fontsize=12,
        fontweight="bold",
        color="white",
        va="center",
        **text,
    )
    axis.text(0.5, 0.84, style.short_key(report.model), fontsize=10, **text)
    axis.text(
        0.5,
        0.795,
        style.short_key(named(str(config.get("id") or ""), config.get("quantization")), ID_WIDTH),
        fontsize=SMALL_PRINT,
        color=style.TEXT_GREY,
        **text,
    )
    axis.text(0.5, 0.74, task_in_words(config.get("task"), config.get("class")), fontsize=9, **text)
    stars = rating["stars"]
    if rating["rated"] is True and not pd.isna(stars):
        stars = int(stars)
        # One colour for every rating, as on AI Energy Score's label: the count says it.
        axis.text(
            0.5, 0.62, "★" * stars + "☆" * (5 - stars), fontsize=24, color=style.LABEL_COLOR, **text
        )
        note = (
            "outside the calibration range: nearest band"
            if rating["out_of_calibration_range"] is True
            else f"rated within {group_in_words(rating['group'])}"
        )
    else:
        axis.text(0.5, 0.62, "unrated", fontsize=18, color=style.STAR_COLORS[None], **text)
        note = rating["unrated_reason"] or ""
    axis.text(
        0.5,
        0.555,
        "\n".join(textwrap.wrap(str(note), SMALL_PRINT_WIDTH)[:3]),
        fontsize=SMALL_PRINT,
        va="top",
        color=style.TEXT_GREY,
        **text,
    )
    big, small = headline(report, rating)
    axis.text(0.5, 0.39, big, fontsize=16, fontweight="bold", **text)
    axis.text(0.5, 0.345, small, fontsize=SMALL_PRINT, **text)
    date = (report.provenance.finished_at or "")[:10] or "unknown date"
    details = [
        *textwrap.wrap(f"hardware: {hardware_of(report)}", SMALL_PRINT_WIDTH),
        f"date: {date}",
        *textwrap.wrap(f"protocol: {protocol_of(report)}", SMALL_PRINT_WIDTH),
        *full_key(report.model),
    ]
    if not report.succeeded:
        details.insert(0, "RUN FAILED")
    axis.text(0.5, 0.29, "\n".join(details), fontsize=SMALL_PRINT, va="top", **text)
    link = hub_url(config.get("id"))
    if link:
        axis.text(
            0.5,
            LINK_LINE_Y,
            style.short_key(link.removeprefix("https://"), ID_WIDTH),
            fontsize=SMALL_PRINT,
            color=style.LABEL_COLOR,
            url=link,
            va="bottom",
            **text,
        )
    style.save(fig, outputs)


def draw_unusable(model: str, problem: str, outputs) -> None:
    """The label of a model whose report cannot be read: it says so, and nothing else."""
    fig, axis = style.figure(WIDTH_IN, HEIGHT_IN)
    axis.set_axis_off()
    axis.add_patch(style.rectangle(style.TEXT_GREY))
    text = dict(transform=axis.transAxes, ha="center")
    axis.text(0.5, 0.9, style.short_key(model), fontsize=10, **text)
    axis.text(0.5, 0.6, "no usable report", fontsize=14, color=style.TEXT_GREY, **text)
    axis.text(
        0.5,
        0.5,
        "\n".join(textwrap.wrap(problem, SMALL_PRINT_WIDTH)[:8] + full_key(model)),
        fontsize=SMALL_PRINT,
        va="top",
        **text,
    )
    style.save(fig, outputs)
