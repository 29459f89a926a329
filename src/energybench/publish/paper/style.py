"""One look for every figure and label (colours from energybench.publish.paper.palette), and
deterministic files: byte-identical across builds, with no dates, no random ids, one bundled
font.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

# Every text is drawn as written: ids and error messages are user data, and a "$" pair in
# them would be TeX math (its dollars dropped, or a parse error that fails the labels job).
# Set for the process, not in STYLE: figures' texts are made outside figure()'s rc_context.
matplotlib.rcParams["text.parse_math"] = False

from energybench.publish.paper.palette import (  # noqa: E402,F401 (re-exported for the figures)
    COMPONENT_COLORS,
    COMPONENT_LABELS,
    LABEL_COLOR,
    PALETTE,
    STAR_COLORS,
)
from energybench.run.files import write_atomic  # noqa: E402

ESTIMATE_HATCH = "//"
INVALID_HATCH = "xx"
OFF_SCALE_HATCH = ".."  # a figure at 0 or below: not on a log scale
TEXT_GREY = "#666666"
FONT = "DejaVu Sans"  # ships with matplotlib: the same glyphs on every machine
ROW_HEIGHT_IN = 0.28  # per model on a model axis: readable at 50+ models
KEY_WIDTH = 32  # characters of a model key a figure shows: a key may have 100 (keys.py)
KEY_NOTE_LINES = 20  # shortened keys a figure lists in full; models.csv has every one

STYLE = {
    "font.family": FONT,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "savefig.dpi": 150,
    "svg.hashsalt": "energybench",  # fixed ids in SVG files
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
# No creation dates or software versions in the files: the same reports give the same bytes.
METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": "energybench", "Producer": None, "CreationDate": None, "ModDate": None},
    "svg": {"Creator": "energybench", "Date": None},
}


def figure(width_in: float, height_in: float, **subplots):
    """A new figure with the shared style."""
    with plt.rc_context(STYLE):
        return plt.subplots(figsize=(width_in, height_in), layout="constrained", **subplots)


def patch(color: str, label: str, hatch: str | None = None):
    """A legend entry."""
    from matplotlib.patches import Patch

    return Patch(facecolor=color, edgecolor=TEXT_GREY if hatch else color, hatch=hatch, label=label)


def rectangle(color: str):
    """The frame of a label."""
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(
        (0.02, 0.02),
        0.96,
        0.96,
        boxstyle="round,pad=0,rounding_size=0.03",
        facecolor="white",
        edgecolor=color,
        linewidth=1.5,
    )


def header_bar(color: str):
    """The filled bar across the top of a label's frame."""
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(
        (0.02, 0.895),
        0.96,
        0.085,
        boxstyle="round,pad=0,rounding_size=0.03",
        facecolor=color,
        edgecolor=color,
        linewidth=1.5,
    )


def model_axis_height(models: int, extra_in: float = 1.4) -> float:
    return max(2.4, ROW_HEIGHT_IN * models + extra_in)


def short_key(key: str, width: int = KEY_WIDTH) -> str:
    """``key`` as a figure shows it: whole up to ``width`` characters, else its start and its
    end around an ellipsis (keys of one family share a start and differ at the end); the
    figure lists it in full (:func:`key_note`)."""
    if len(key) <= width:
        return key
    return key[: width - 13] + "…" + key[-12:]


def key_note(fig, keys) -> None:
    """Under ``fig``, the keys among ``keys`` that it shows shortened, each in full."""
    long = [key for key in dict.fromkeys(keys) if short_key(key) != key]
    if not long:
        return
    lines = [f"{short_key(key)}: {key}" for key in long[:KEY_NOTE_LINES]]
    if len(long) > KEY_NOTE_LINES:
        lines.append(f"and {len(long) - KEY_NOTE_LINES} more (every key in full in models.csv)")
    fig.text(
        0.0,
        0.0,
        "Model keys shortened here, in full:\n" + "\n".join(lines),
        fontsize=6,
        va="top",
        ha="left",
        color=TEXT_GREY,
    )


def mark_estimated(text: str, estimated: bool) -> str:
    return f"{text} (estimated)" if estimated else text


def callouts(axis, points: list[tuple[float, float, str]], corner: str) -> None:
    """Name ``points`` (x, y, text; data coordinates) in a column in the ``corner`` of
    ``axis`` ("upper left" or "lower right"), one line apart, each with a line to its point:
    names beside the points of a dense plot would cover each other."""
    from matplotlib.text import OffsetFrom

    upper, left = corner == "upper left", corner.endswith("left")
    anchor = OffsetFrom(axis, (0.02 if left else 0.98, 0.98 if upper else 0.02))
    # Each line leaves its name towards the points, and the names it passes on its way are
    # drawn after it, on opaque boxes: no line crosses a name.
    lines = list(enumerate(points)) if upper else list(enumerate(reversed(points)))
    for line, (x, y, text) in lines:
        axis.annotate(
            text,
            (x, y),
            xytext=(0, -9 * line if upper else 9 * line),
            textcoords=anchor,
            fontsize=6.5,
            color=TEXT_GREY,
            ha="left" if left else "right",
            va="top" if upper else "bottom",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},
            arrowprops={
                "arrowstyle": "-",
                "color": TEXT_GREY,
                "linewidth": 0.4,
                "shrinkA": 0,
                "shrinkB": 2,
                "relpos": (0.0 if left else 1.0, 0.0 if upper else 1.0),
            },
        )


def log_scale(axis, which: str, values: list[float]) -> None:
    """A log scale on ``axis``'s "x" or "y" for ``values`` (all above 0), labelled in plain
    numbers (0.2, 1, 5, not 2×10⁻¹) at 1, 2 and 5 times powers of ten, or at powers of ten
    alone over more than two decades; its limits on such ticks, so that two or more are named.
    Refuses a value at or below 0: matplotlib would clip it to the axis, and a figure must
    leave it off and say so (selection.OFF_SCALE)."""
    from matplotlib import ticker

    if min(values) <= 0:
        raise ValueError(f"a log scale shows only values above 0, not {min(values)}")

    def nice(value: float, up: bool) -> float:
        power = 10.0 ** math.floor(math.log10(value))
        steps = [power * s for s in (1, 2, 5, 10)]
        return min(s for s in steps if s >= value) if up else max(s for s in steps if s <= value)

    low, high = nice(min(values) * 0.9, up=False), nice(max(values) * 1.1, up=True)
    getattr(axis, f"set_{which}scale")("log")
    getattr(axis, f"set_{which}lim")(low, high)
    scale = getattr(axis, f"{which}axis")
    scale.set_major_locator(
        ticker.LogLocator(subs=(1.0,) if high / low > 100 else (1, 2, 5), numticks=7)
    )
    scale.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    scale.set_minor_formatter(ticker.NullFormatter())


def keep_apart(fig, texts: list) -> int:
    """Remove each of ``texts`` that would cover one kept before it (the first go first);
    how many are kept. Draws ``fig`` once: a text's extent is known only once laid out."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    kept = []
    for text in texts:
        extent = text.get_window_extent(renderer).expanded(1.1, 1.3)  # a margin: no touching
        if any(extent.overlaps(other) for other in kept):
            text.remove()
        else:
            kept.append(extent)
    return len(kept)


def save(fig, outputs) -> None:
    """Write ``fig`` once per output (format from the suffix), atomically, then close it."""
    with plt.rc_context(STYLE):
        for output in map(Path, outputs):
            kind = output.suffix.lstrip(".")
            image = io.BytesIO()
            fig.savefig(image, format=kind, bbox_inches="tight", metadata=METADATA[kind])
            write_atomic(output, image.getvalue())
    plt.close(fig)
