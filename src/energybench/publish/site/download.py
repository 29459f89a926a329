"""The leaderboard as a CSV file beside it (``leaderboard.csv``): what the index shows of each
model, in its default order, every unknown figure empty with its reason beside it (never 0),
every cell through energybench.run.files.csv_text (no cell a spreadsheet runs as a formula).
``note`` says where an earlier attempt's figures stand in for a failed rerun (models.csv's
note): the file never shows older figures as the newest run's. Peak memory: the GPUs' (as
the index shows it) and the host's (as the model page does)."""

from __future__ import annotations

from energybench.run.files import csv_text

FIGURES = (
    "gpu_wh_per_1000_queries",
    "total_wh_per_1000_queries",
    "joules_per_token",
    "completion_tokens_per_second",
)
MEMORY = ("peak_gpu_used_gib", "peak_host_gib")
HEADER = [
    "model",
    "id",
    "hub_url",
    "group",
    "rank",
    "rank_reason",
    "stars",
    "unrated_reason",
    *(
        f"{name}{part}"
        for name in FIGURES
        for part in ("", "_ci_low", "_ci_high", "_estimated", "_reason")
    ),
    "hardware",
    "gpus",
    "parameters",
    *(f"{name}{part}" for name in MEMORY for part in ("", "_reason")),
    "class",
    "task",
    "reasoning",
    "backend",
    "quantization",
    "status",
    "note",
    "failure",
    "failed_checks",
]


def row(entry: dict) -> list:
    figures = [
        value
        for key in FIGURES
        for value in (
            entry[key]["value"],
            entry[key]["low"],
            entry[key]["high"],
            entry[key]["estimated"],
            entry[key]["reason"],
        )
    ]
    return [
        entry["key"],
        entry["id"],
        entry["hub_url"],
        entry["group"],
        entry["rank"],
        entry["rank_reason"],
        entry["rating"]["stars"],
        entry["rating"]["reason"],
        *figures,
        entry["hardware"],
        entry["gpus"],
        entry["parameters"],
        *(value for key in MEMORY for value in (entry[key]["value"], entry[key]["reason"])),
        entry["class"],
        entry["task"],
        entry["reasoning"],
        entry["backend"],
        entry["quantization"],
        entry["status"],
        entry["note"],
        entry["failure"],
        ";".join(entry["failed_checks"]) or None,
    ]


def leaderboard_csv(entries: list[dict]) -> str:
    return csv_text(HEADER, map(row, entries))
