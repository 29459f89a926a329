"""Paper-ready figures from the models table."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from energybench.report import write_atomic  # noqa: E402

COMPONENT_COLORS = {"gpu": "#1b9e77", "cpu": "#d95f02", "ram": "#7570b3"}


def _save_atomic(figure, outputs: list[str | Path]) -> None:
    for output in map(Path, outputs):
        image = io.BytesIO()
        figure.savefig(image, format=output.suffix.lstrip("."), bbox_inches="tight", dpi=200)
        write_atomic(output, image.getvalue())


def plot_energy_per_1000_queries(table_path: str | Path, outputs: list[str | Path]) -> None:
    """Stacked bars of energy per 1,000 queries by component (GPU, CPU, RAM).

    Estimated components are hatched and say so in the legend; models without a figure
    (failed runs, unreadable meters) get a labelled gap, never a zero-height bar.
    """
    table = pd.read_csv(table_path)
    figure, axes = plt.subplots(figsize=(max(4.0, 1.2 * len(table) + 2), 3.6))
    positions = range(len(table))
    bottoms = [0.0] * len(table)
    for component, color in COMPONENT_COLORS.items():
        per_query = table[f"{component}_energy_wh"] / table["successful_prompts"] * 1000
        estimated = table[f"{component}_source"] == "estimate"
        for position, value, is_estimate in zip(positions, per_query, estimated):
            if pd.isna(value) or table["status"].iloc[position] != "succeeded":
                continue
            axes.bar(position, value, bottom=bottoms[position], color=color,
                     hatch="//" if is_estimate else None, edgecolor="white")
            bottoms[position] += value
        axes.bar(0, 0, color=color, label=component.upper())
    if table[[f"{c}_source" for c in COMPONENT_COLORS]].eq("estimate").any().any():
        axes.bar(0, 0, color="lightgrey", hatch="//", edgecolor="white", label="estimated")
    top = max(bottoms) if any(bottoms) else 1.0
    for position, row in table.iterrows():
        if row["status"] != "succeeded" or pd.isna(row["total_wh_per_1000_queries"]):
            why = "run failed" if row["status"] != "succeeded" else "energy unknown"
            axes.text(position, top * 0.05, f"no data:\n{why}", ha="center", va="bottom",
                      fontsize=8, color="dimgrey")
    axes.set_xticks(list(positions), table["model"], rotation=30, ha="right")
    axes.set_ylabel("Energy per 1,000 queries (Wh)")
    axes.set_title("Inference energy per 1,000 queries (gross, mean over trials)")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    _save_atomic(figure, outputs)
    plt.close(figure)
