"""Star ratings by AI Energy Score's method.

Models are rated within a group: their task, and for text generation also their class (A, B,
C). The range of GPU energy per 1,000 queries in a group is cut into five equal-width bands;
the lowest band gets 5 stars, the highest 1. A value on a band's edge falls in the band above
it (more energy, fewer stars), except the maximum, which is in the top band.

The range comes from the models being rated, or from a frozen calibration file (AI Energy
Score recalibrates every 6 to 9 months): a model outside the frozen range gets the nearest
band's stars and is flagged. A model is unrated, with the reason, when its run failed, its
GPU energy is unknown or estimated, its group has no range (one member, all equal), or the
calibration file cannot be used. The calibration this set computes is written out, so it can
be frozen for later sets.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pandas as pd

from energybench.run.files import frame_csv_text, write_atomic, write_json_atomic
from energybench.run.report import Report
from energybench.run.tasks import known_task

STARS = 5
RATING_COLUMNS = [
    "model",
    "task",
    "class",
    "group",
    "gpu_wh_per_1000_queries",
    "stars",
    "rated",
    "unrated_reason",
    "out_of_calibration_range",
    "calibration_source",
    "note",
]
CALIBRATION_SCHEMA = {
    "type": "object",
    "required": ["source", "groups"],
    "properties": {
        "source": {"type": "string"},
        "groups": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["min_wh_per_1000_queries", "max_wh_per_1000_queries"],
                "properties": {
                    "min_wh_per_1000_queries": {"type": "number", "minimum": 0},
                    "max_wh_per_1000_queries": {"type": "number", "minimum": 0},
                    "models": {"type": "integer", "minimum": 2},
                },
            },
        },
    },
}


def group_of(task: str | None, model_class: str | None) -> str:
    """AI Energy Score rates text generation per class, other tasks per task (as the task
    declares, energybench.run.tasks); a task this pipeline does not know is its own group."""
    known = known_task(task)
    return known.rating_group(model_class) if known else task or "unknown_task"


def stars_in_range(value: float, low: float, high: float) -> tuple[int, bool]:
    """Stars of ``value`` in the range [low, high] (high > low), and whether it lies outside
    it (then it gets the nearest band's stars)."""
    # Rounded so a value on an edge falls above it however the division rounds (1.4 in
    # [1, 3] is 0.9999999999999998 band widths from the bottom).
    band = math.floor(round((value - low) / ((high - low) / STARS), 9))
    return STARS - min(max(band, 0), STARS - 1), not low <= value <= high


@dataclass
class Calibration:
    """Per group, the (min, max) of GPU Wh per 1,000 queries; or why there is none."""

    source: str
    ranges: dict[str, tuple[float, float]]
    problem: str | None = None  # the whole file is unusable
    counts: dict[str, int] = field(default_factory=dict)  # models each range was made from

    def range_of(self, group: str) -> tuple[tuple[float, float] | None, str | None]:
        if self.problem:
            return None, self.problem
        if group not in self.ranges:
            return (
                None,
                f"{self.source} has no range for group {group} "
                f"(it covers: {', '.join(sorted(self.ranges)) or 'none'})",
            )
        return self.ranges[group], None


def read_calibration(path: str | Path) -> Calibration:
    """A frozen calibration; a malformed file gives a calibration that says why for every
    model, instead of stopping the tables and figures."""
    source = f"frozen calibration {path}"
    try:
        document = json.loads(Path(path).read_text())
        jsonschema.validate(document, CALIBRATION_SCHEMA)
    except (OSError, json.JSONDecodeError, jsonschema.ValidationError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return Calibration(source, {}, f"{source} is unusable: {message}")
    ranges, bad = {}, []
    for group, entry in document["groups"].items():
        low, high = entry["min_wh_per_1000_queries"], entry["max_wh_per_1000_queries"]
        if high > low:
            ranges[group] = (low, high)
        else:
            bad.append(group)
    calibration = Calibration(f"{source} ({document['source']})", ranges)
    if bad:
        calibration.problem = (
            f"{source} is unusable: group(s) {', '.join(bad)} have "
            "max_wh_per_1000_queries not above min_wh_per_1000_queries"
        )
    return calibration


def candidates(reports: list[Report]) -> list[dict]:
    """One row per model: its group and GPU Wh per 1,000 queries, or why it cannot be rated."""
    rows = []
    for report in reports:
        config, gpu = report.config, report.energy.gpu
        value = report.metrics.wh_per_1000_queries
        reason = None
        if not report.succeeded:
            reason = f"run failed: {report.error.message if report.error else 'no error recorded'}"
        elif value is None:
            reason = f"GPU energy unknown: {gpu.reason or 'no reason recorded'}"
        elif gpu.estimated:
            reason = f"GPU energy is an estimate, not a measurement: {gpu.reason}"
        rows.append(
            {
                "model": report.model,
                "task": config.get("task"),
                "class": config.get("class"),
                "group": group_of(config.get("task"), config.get("class")),
                "gpu_wh_per_1000_queries": value,
                "unrated_reason": reason,
                "note": report.note,
            }
        )
    return rows


def computed_calibration(table: list[dict]) -> tuple[Calibration, dict[str, str]]:
    """The range of each group of ratable models, and why the other groups have none."""
    ratable = pd.DataFrame(
        [row for row in table if row["unrated_reason"] is None],
        columns=["group", "gpu_wh_per_1000_queries"],
    )
    ranges, no_range, counts = {}, {}, {}
    for group, values in ratable.groupby("group")["gpu_wh_per_1000_queries"]:
        counts[group] = len(values)
        if len(values) < 2:
            no_range[group] = (
                f"group {group} has one model with measured GPU energy: no range to band"
            )
        elif values.max() == values.min():
            no_range[group] = (
                f"every model in group {group} has the same GPU energy "
                f"({values.min():.6g} Wh per 1,000 queries): no range to band"
            )
        else:
            ranges[group] = (float(values.min()), float(values.max()))
    source = f"computed from the {len(ratable)} model(s) of this set with measured GPU energy"
    return Calibration(source, ranges, counts=counts), no_range


def rate(
    reports: list[Report], calibration: Calibration | None = None
) -> tuple[pd.DataFrame, Calibration]:
    """The ratings table, and the calibration of this set (to freeze for later sets).

    With ``calibration`` (frozen), models are rated against it; without, against this set.
    """
    table = candidates(reports)
    computed, no_range = computed_calibration(table)
    used = calibration or computed
    rows = []
    for row in table:
        stars, outside, reason = None, False, row["unrated_reason"]
        if reason is None:
            span, reason = used.range_of(row["group"])
            if calibration is None and row["group"] in no_range:
                reason = no_range[row["group"]]
            if span:
                stars, outside = stars_in_range(row["gpu_wh_per_1000_queries"], *span)
        rows.append(
            {
                **row,
                "stars": stars,
                "rated": stars is not None,
                "unrated_reason": reason,
                "out_of_calibration_range": outside,
                "calibration_source": used.source,
            }
        )
    ratings = pd.DataFrame(rows, columns=RATING_COLUMNS).astype({"stars": "Int64"})
    return ratings, computed


def calibration_document(calibration: Calibration) -> dict:
    """The calibration as a file that ``read_calibration`` reads back (to freeze it)."""
    return {
        "source": calibration.source,
        "groups": {
            group: {
                "min_wh_per_1000_queries": low,
                "max_wh_per_1000_queries": high,
                "models": calibration.counts[group],
            }
            for group, (low, high) in sorted(calibration.ranges.items())
        },
    }


def write_ratings(
    reports: list[Report],
    ratings_csv: str | Path,
    calibration_json: str | Path,
    frozen: str | Path | None = None,
) -> pd.DataFrame:
    """Rate ``reports`` (against the ``frozen`` calibration file, when given); write the
    ratings and this set's own calibration."""
    ratings, computed = rate(reports, read_calibration(frozen) if frozen else None)
    write_atomic(ratings_csv, frame_csv_text(ratings))
    write_json_atomic(calibration_json, calibration_document(computed))
    return ratings
