"""models.csv and the tables beside it: one row per trial, per phase, per latency metric and
per self-check, and the per-model table as LaTeX for papers (energybench.publish.paper.latex, with
the stars of the ratings table). Each is made from the reports alone; a failed model keeps its
rows, marked, with empty (never zero) figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from energybench.publish.paper.aggregate import MODEL_COLUMNS, report_row
from energybench.publish.paper import latex
from energybench.run.energy.phases import PER_UNIT_FIGURES
from energybench.run.files import frame_csv_text, write_atomic
from energybench.run.report import COMPONENTS, Report
from energybench.run.sections import LATENCY_METRICS

WINDOW_ENERGY_FIELDS = ("gross_joules", "net_joules", "source", "reason")
# completion_tokens_per_second counts generated tokens (as models.csv and the figures);
# throughput_tokens_per_second is AES's, prompt + completion tokens (docs/report.md).
TRIAL_COLUMNS = [
    "model",
    "status",
    "trial",
    "duration_s",
    "completion_tokens",
    "completion_tokens_per_second",
    "throughput_tokens_per_second",
    "failure",
] + [f"{c}_{field}" for c in COMPONENTS for field in WINDOW_ENERGY_FIELDS]
PHASE_COLUMNS = [
    "model",
    "status",
    "trial",
    "component",
    "unit",
    "prefill",
    "decode",
    "generate",
    *PER_UNIT_FIGURES,
    "valid",
    "invalid_reason",
    "prefill_passes",
    "generate_passes",
]
LATENCY_COLUMNS = ["model", "status", "metric", "count", "mean", "median", "p90", "p99"]
CHECK_COLUMNS = [
    "model",
    "status",
    "trial",
    "window",
    "name",
    "passed",
    "severity",
    "value",
    "limit",
    "detail",
]


def trial_rows(report: Report) -> list[dict]:
    """One row per trial; a failed run without trials keeps one row with its error."""
    base = {"model": report.model, "status": report.status}
    rows = [] if report.trials else [{**base, "failure": report.error_text}]
    for trial in report.trials:
        row = {
            **base,
            "trial": trial.index,
            "duration_s": trial.duration_s,
            "completion_tokens": trial.completion_tokens,
            "completion_tokens_per_second": trial.completion_tokens_per_second,
            "throughput_tokens_per_second": trial.throughput_tokens_per_second,
            "failure": trial.failure,
        }
        for name, energy in trial.energy.items():
            row.update({f"{name}_{k}": getattr(energy, k) for k in WINDOW_ENERGY_FIELDS})
        rows.append(row)
    return rows


def phase_rows(report: Report) -> list[dict]:
    """Prefill/decode per trial and component, per pass and per query and token (empty for
    the latency row); ``valid`` false with the reason where the split is invalid (decode
    below the meter's resolution, a prefill unknown). A model whose backend measures no
    prefill keeps one row saying so."""
    base = {"model": report.model, "status": report.status}
    if not report.phases:
        why = report.error_text or "the backend measures no prefill/decode split"
        return [{**base, "valid": False, "invalid_reason": why}]
    per_trial = report.phases_per_trial
    return [
        {
            **base,
            "trial": index,
            "component": name,
            "unit": part.unit,
            "prefill_passes": split.prefill_passes,
            "generate_passes": split.generate_passes,
            **{k: getattr(part, k) for k in ("prefill", "decode", "generate")},
            **(per_trial[index].get(name, {}) if index < len(per_trial) else {}),
            "valid": part.reason is None,
            "invalid_reason": part.reason,
        }
        for index, split in enumerate(report.phases.trials)
        for name, part in split.splits.items()
    ]


def latency_rows(report: Report) -> list[dict]:
    """Latency statistics of a served model (one whose report has a latency section)."""
    rows = []
    for metric in LATENCY_METRICS if report.latency else ():
        stats = report.latency.metric(metric)  # None: no request measured it
        rows.append(
            {
                "model": report.model,
                "status": report.status,
                "metric": metric,
                **{k: getattr(stats, k, None) for k in LATENCY_COLUMNS[3:]},
            }
        )
    return rows


def check_rows(report: Report) -> list[dict]:
    """Every self-check of the run (``passed`` empty where a check could not be made)."""
    return [
        {
            "model": report.model,
            "status": report.status,
            **{k: getattr(check, k) for k in CHECK_COLUMNS[2:]},
        }
        for check in report.checks
    ]


@dataclass(frozen=True)
class Table:
    rows: Callable[[Report], list[dict]]  # a report's rows
    columns: list[str]
    open_columns: bool = False
    """Whether columns the rows hold beyond ``columns`` follow them (a task's own figures,
    energybench.publish.paper.aggregate.task_columns), in the order the rows first hold
    them."""

    def frame(self, rows: list[dict]) -> pd.DataFrame:
        columns = self.columns
        if self.open_columns:
            columns = list(dict.fromkeys([*columns, *(key for row in rows for key in row)]))
        frame = pd.DataFrame(rows, columns=columns)
        # A trial number, empty on a row of no trial, stays an integer.
        return frame.astype({"trial": "Int64"}) if "trial" in self.columns else frame


TABLES = {
    "models": Table(lambda report: [report_row(report)], MODEL_COLUMNS, open_columns=True),
    "trials": Table(trial_rows, TRIAL_COLUMNS),
    "phases": Table(phase_rows, PHASE_COLUMNS),
    "latency": Table(latency_rows, LATENCY_COLUMNS),
    "checks": Table(check_rows, CHECK_COLUMNS),
}


def write_tables(
    reports: Iterable[Report], ratings: pd.DataFrame, outputs: dict[str, str | Path]
) -> None:
    """Write every table (``outputs``: one file per name of TABLES, and ``latex``, the models
    table as LaTeX with the stars of ``ratings``) in one pass over ``reports``, keeping each
    report's rows and not the report: ``reports`` may come one at a time
    (energybench.publish.paper.stored.iter_stored_reports). Nothing is written before the last report
    is read."""
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    for report in reports:
        for name, made in TABLES.items():
            rows[name].extend(made.rows(report))
    frames = {name: made.frame(rows[name]) for name, made in TABLES.items()}
    for name, frame in frames.items():
        write_atomic(outputs[name], frame_csv_text(frame))
    write_atomic(outputs["latex"], latex.models_latex(frames["models"], ratings))
