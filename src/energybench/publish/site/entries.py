"""What the site shows of each model: figures selected from its report and its rating.

Nothing here measures or derives energy: it picks the stored figures and their intervals
and keeps every unknown figure as ``None`` with the reason beside it.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from energybench.run.files import csv_value
from energybench.job.keys import key_problem
from energybench.publish.paper.hardware import gpu_count, hardware_of, parameter_count
from energybench.publish.paper.links import hub_url
from energybench.publish.paper.ranking import rank_key, rated_figure, total_marked_estimated
from energybench.publish.paper.ratings import group_of
from energybench.run.tasks import known_task
from energybench.publish.paper.stored import read_stored_reports
from energybench.run.quantization import scheme
from energybench.run.report import Report
from energybench.run.sections import ComponentFigures, Metrics

NO_RATINGS = "no ratings table"


def page_name(key: str) -> str:
    """The file stem of a model's page: the key itself (a stable URL) where the configuration
    would accept it, else a digest of it (a hand-edited or foreign report's key), so a page
    can never be named outside the site."""
    if key_problem(key) is None:
        return key
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def read_ratings(path: str | Path | None) -> dict[str, dict] | None:
    """The ratings table (``results/tables/ratings.csv``) by model key; None when absent."""
    if path is None or not Path(path).exists():
        return None
    with open(path, newline="") as handle:
        rows = csv.DictReader(handle)
        return {
            csv_value(row["model"]): {
                csv_value(name): csv_value(cell) for name, cell in row.items()
            }
            for row in rows
        }


def figure_of(value, *, reason=None, estimated=False, low=None, high=None, interval_reason=None):
    """A figure as the pages show it: its value, 95% interval, estimate flag, or the reason
    it is unknown."""
    return {
        "value": value,
        "reason": None if value is not None else reason or "unknown",
        "estimated": bool(estimated) and value is not None,
        "low": low,
        "high": high,
        "interval_reason": interval_reason,
    }


def _metric(
    metrics: Metrics,
    key: str,
    component: ComponentFigures,
    unknown_because: str | None,
    estimated: bool,
) -> dict:
    """A stored metric with its 95% interval over trials, both as the report has them; the
    reason it is unknown comes from the energy it is made of."""
    stats = metrics.statistics(key)
    return figure_of(
        getattr(metrics, key),
        reason=unknown_because or component.reason or stats.reason,
        estimated=estimated,
        low=stats.ci_low,
        high=stats.ci_high,
        interval_reason=None
        if stats.ci_low is not None
        else stats.reason or "no interval in the report",
    )


def _rating(key: str, ratings: dict[str, dict] | None) -> dict:
    row = None if ratings is None else ratings.get(key)
    if row is None:
        reason = NO_RATINGS if ratings is None else "not in the ratings table"
        return {"stars": None, "reason": reason, "out_of_range": False, "calibration": None}
    stars = int(float(row["stars"])) if row.get("stars") not in (None, "") else None
    return {
        "stars": stars,
        "reason": None if stars is not None else row.get("unrated_reason") or "unrated",
        "out_of_range": row.get("out_of_calibration_range", "").lower() == "true",
        "calibration": row.get("calibration_source") or None,
    }


def model_entry(report: Report, ratings: dict[str, dict] | None) -> dict:
    """One model's row: every figure the index, its page and the comparison show."""
    config, summary, metrics = report.config, report.summary, report.metrics
    failure = None if report.error is None else f"run failed: {report.error_text}"
    # A failed run's figures say so briefly; the full reason is shown once, by its name.
    unknown_because = None if report.error is None else "run failed"
    gpu, total = report.energy.gpu, report.energy.total
    # A total is marked estimated only where its estimates weigh (energybench.publish.paper.ranking).
    total_estimated = total_marked_estimated(report.energy)
    return {
        "key": report.model,
        "page": page_name(report.model),
        "id": config.get("id"),
        "hub_url": hub_url(config.get("id")),
        "hardware": hardware_of(report),
        "gpus": gpu_count(report),
        "parameters": parameter_count(report),
        "status": report.status,
        "failure": failure,
        "task": config.get("task"),
        "class": config.get("class"),
        "reasoning": "on" if config.get("reasoning") else "off",
        "backend": config.get("backend"),
        # A quantized run's scheme (quanto-int8), shown beside its key: never its original.
        "quantization": scheme(config.get("quantization")),
        "rating": _rating(report.model, ratings),
        "group": group_of(config.get("task"), config.get("class")),
        "gpu_wh_per_1000_queries": _metric(
            metrics, "wh_per_1000_queries", gpu, unknown_because, gpu.estimated
        ),
        "total_wh_per_1000_queries": _metric(
            metrics, "total_wh_per_1000_queries", total, unknown_because, total_estimated
        ),
        "joules_per_token": _metric(
            metrics, "joules_per_token", total, unknown_because, total_estimated
        ),
        # Generated tokens per second, as energy per token is per generated token (and as
        # models.csv and the figures show it); AES's throughput counts prompt tokens too.
        "completion_tokens_per_second": figure_of(
            summary.completion_tokens_per_second,
            reason=unknown_because or "no generated tokens per second in the report",
        ),
        "task_figures": _task_figures(report, unknown_because, total_estimated),
        **_load_and_memory(report, unknown_because),
        "failed_checks": report.failed_checks,
        "finished_at": report.provenance.finished_at,
        # An earlier attempt shown in place of a newer one that failed (energybench.job.history).
        "note": report.note,
    }


ENERGY_WORDS = {"gpu": "GPU energy", "total": "Total energy", "net": "Net energy"}


def _task_figures(report: Report, unknown_because: str | None, total_estimated: bool) -> list[dict]:
    """The figures per unit of work that the report's task adds (energybench.run.tasks:
    image generation's energy per image and per 1,000 images, images per second), each with
    its words; none for text generation, whose figures the page shows already."""
    task = known_task(report.config.get("task"))
    if task is None:
        return []
    energy = {"gpu": report.energy.gpu, "total": report.energy.total, "net": report.energy.total}
    shown = []
    for key, (kind, figure) in task.unit_figures.items():
        per = f"Wh / 1,000 {task.units}" if figure == "wh_per_1000_queries" else f"J / {task.unit}"
        estimated = report.energy.gpu.estimated if kind == "gpu" else total_estimated
        shown.append(
            {
                "key": key,
                "words": f"{ENERGY_WORDS[kind]}, {per}",
                "figure": _metric(report.metrics, key, energy[kind], unknown_because, estimated),
            }
        )
    if not task.generates_tokens:
        shown.append(
            {
                "key": task.throughput,
                "words": f"{task.units.capitalize()} / s",
                "figure": figure_of(
                    getattr(report.summary, task.throughput),
                    reason=unknown_because or "not in the report",
                ),
            }
        )
    return shown


def _load_and_memory(report: Report, unknown_because: str | None) -> dict:
    """The model load's time and total energy, and the run's peak memory (GiB)."""
    load, memory = report.load, report.memory
    none = unknown_because or "not in the report (made before it recorded them)"
    gib = 2**30
    gpu = memory.gpu_used_total_bytes if memory else None
    return {
        "load_seconds": figure_of(
            load.duration_s if load else None, reason=load.reason if load else none
        ),
        "load_gross_joules": figure_of(
            load.total.gross_joules if load else None,
            reason=load.total.reason if load else none,
            estimated=load.total.estimated if load else False,
        ),
        "peak_gpu_used_gib": figure_of(
            None if gpu is None else gpu / gib, reason=memory.gpu_reason if memory else none
        ),
        "peak_host_gib": figure_of(
            None if not memory or memory.host_bytes is None else memory.host_bytes / gib,
            reason=memory.host_reason if memory else none,
        ),
    }


def collect(
    collection: str | Path, ratings: dict[str, dict] | None
) -> tuple[list[dict], list[dict]]:
    """The entries of the usable reports, ranked (see :func:`ranked`), each with its report
    beside it; and the reports left out, each with why. The site reads the paper outputs'
    collection, so it shows the reports the tables show and leaves out those they leave out."""
    stored = read_stored_reports(collection)
    entries = [
        {**model_entry(report, ratings), "report": report, "report_path": path}
        for report, path in zip(stored.reports, stored.paths)
    ]
    ranked(entries)
    left_out = [{"path": path, "reason": problem} for path, problem in stored.skipped.items()]
    return entries, left_out


def ranked(entries: list[dict]) -> None:
    """Order ``entries`` in place by rating group, each group ranked by the figure the stars
    rate (energybench.publish.paper.ranking); give each its ``rank`` in its group (None, with
    ``rank_reason``, for a model without a measured GPU figure) and its ``order`` overall,
    the leaderboard's default sort."""
    entries.sort(key=lambda e: (e["group"], *rank_key(e["report"])))
    ranks: dict[str, int] = {}
    for order, entry in enumerate(entries):
        value, why = rated_figure(entry["report"])
        rank = None
        if value is not None:
            rank = ranks[entry["group"]] = ranks.get(entry["group"], 0) + 1
        entry.update(order=order, rank=rank, rank_reason=why)


def calibration(entries: list[dict], ratings: dict[str, dict] | None) -> str:
    """The star calibration the ratings used, in words."""
    sources = sorted({e["rating"]["calibration"] for e in entries if e["rating"]["calibration"]})
    if sources:
        return "; ".join(sources)
    return "none: " + (NO_RATINGS if ratings is None else "no model is rated")
