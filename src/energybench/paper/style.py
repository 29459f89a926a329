"""One look for every figure and label (colours from energybench.paper.palette), and
deterministic files: byte-identical across builds, with no dates, no random ids, one bundled
font.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from energybench.paper.palette import (  # noqa: E402,F401 (re-exported for the figures)
    COMPONENT_COLORS, COMPONENT_LABELS, PALETTE, STAR_COLORS)
from energybench.files import write_atomic  # noqa: E402

ESTIMATE_HATCH = "//"
INVALID_HATCH = "xx"
TEXT_GREY = "#666666"
FONT = "DejaVu Sans"  # ships with matplotlib: the same glyphs on every machine
ROW_HEIGHT_IN = 0.28  # per model on a model axis: readable at 50+ models

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

    return Patch(facecolor=color, edgecolor=TEXT_GREY if hatch else color, hatch=hatch,
                 label=label)


def rectangle(color: str):
    """The frame of a label."""
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((0.02, 0.02), 0.96, 0.96, boxstyle="round,pad=0,rounding_size=0.03",
                          facecolor="white", edgecolor=color, linewidth=1.5)


def model_axis_height(models: int, extra_in: float = 1.4) -> float:
    return max(2.4, ROW_HEIGHT_IN * models + extra_in)


def mark_estimated(text: str, estimated: bool) -> str:
    return f"{text} (estimated)" if estimated else text


def save(fig, outputs) -> None:
    """Write ``fig`` once per output (format from the suffix), atomically, then close it."""
    with plt.rc_context(STYLE):
        for output in map(Path, outputs):
            kind = output.suffix.lstrip(".")
            image = io.BytesIO()
            fig.savefig(image, format=kind, bbox_inches="tight", metadata=METADATA[kind])
            write_atomic(output, image.getvalue())
    plt.close(fig)
