"""The tables beside models.csv: one row per trial, per phase, per latency metric and per
self-check, and the per-model table as LaTeX for papers. Each is made from the reports alone;
a failed model keeps its rows, marked, with empty (never zero) figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from energybench.energy.units import significant
from energybench.files import write_atomic
from energybench.report import COMPONENTS, Report
from energybench.sections import LATENCY_METRICS, LatencyStatistics

WINDOW_ENERGY_FIELDS = ("gross_joules", "net_joules", "source", "reason")
TRIAL_COLUMNS = ["model", "status", "trial", "duration_s", "completion_tokens",
                 "throughput_tokens_per_second", "failure"] + [
    f"{c}_{field}" for c in COMPONENTS for field in WINDOW_ENERGY_FIELDS]
PHASE_COLUMNS = ["model", "status", "trial", "component", "unit", "prefill", "decode",
                 "generate", "valid", "invalid_reason", "prefill_passes"]
LATENCY_COLUMNS = ["model", "status", "metric", "count", "mean", "median", "p90", "p99"]
CHECK_COLUMNS = ["model", "status", "trial", "window", "name", "passed", "severity", "value",
                 "limit", "detail"]


def trials_table(reports: list[Report]) -> pd.DataFrame:
    """One row per trial; a failed run without trials keeps one row with its error."""
    rows = []
    for report in reports:
        base = {"model": report.model, "status": report.status}
        if not report.trials:
            rows.append({**base, "failure": report.error_text})
        for trial in report.trials:
            row = {**base, "trial": trial.index, "duration_s": trial.duration_s,
                   "completion_tokens": trial.completion_tokens,
                   "throughput_tokens_per_second": trial.throughput_tokens_per_second,
                   "failure": trial.failure}
            for name, energy in trial.energy.items():
                row.update({f"{name}_{k}": getattr(energy, k) for k in WINDOW_ENERGY_FIELDS})
            rows.append(row)
    return pd.DataFrame(rows, columns=TRIAL_COLUMNS).astype({"trial": "Int64"})


def phases_table(reports: list[Report]) -> pd.DataFrame:
    """Prefill/decode per trial and component; ``valid`` false with the reason where the split
    is invalid (decode below the meter's resolution, a prefill unknown). Models whose backend
    measures no prefill keep one row saying so."""
    rows = []
    for report in reports:
        base = {"model": report.model, "status": report.status}
        if not report.phases:
            why = report.error_text or "the backend measures no prefill/decode split"
            rows.append({**base, "valid": False, "invalid_reason": why})
            continue
        for index, split in enumerate(report.phases.trials):
            for name, part in split.splits.items():
                rows.append({**base, "trial": index, "component": name, "unit": part.unit,
                             "prefill_passes": split.prefill_passes,
                             **{k: getattr(part, k) for k in ("prefill", "decode", "generate")},
                             "valid": part.reason is None, "invalid_reason": part.reason})
    return pd.DataFrame(rows, columns=PHASE_COLUMNS).astype({"trial": "Int64"})


def latency_table(reports: list[Report]) -> pd.DataFrame:
    """Latency statistics of served models (those whose report has a latency section)."""
    rows = []
    for report in reports:
        if not report.latency:
            continue
        for metric in LATENCY_METRICS:
            stats = report.latency.metric(metric) or LatencyStatistics()
            rows.append({"model": report.model, "status": report.status, "metric": metric,
                         **{k: getattr(stats, k) for k in LATENCY_COLUMNS[3:]}})
    return pd.DataFrame(rows, columns=LATENCY_COLUMNS)


def checks_table(reports: list[Report]) -> pd.DataFrame:
    """Every self-check of every run (``passed`` empty where a check could not be made)."""
    rows = [{"model": report.model, "status": report.status,
             **{k: getattr(check, k) for k in CHECK_COLUMNS[2:]}}
            for report in reports for check in report.checks]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS).astype({"trial": "Int64"})


def with_interval(mean, low, high, digits: int = 3) -> str:
    """``mean [low, high]``; the mean alone without an interval; ``--`` when unknown."""
    if pd.isna(mean):
        return "--"
    text = significant(mean, digits)
    if not (pd.isna(low) or pd.isna(high)):
        text += f" [{significant(low, digits)}, {significant(high, digits)}]"
    return text


LATEX_NOTE = (
    "% Mean over trials [95% confidence interval over trials, where at least two are valid];\n"
    "% --: unknown (failed run or unmeasured component), never 0; *: includes estimated\n"
    "% components. Made by energybench from the stored reports.\n"
)


def models_latex(table: pd.DataFrame) -> str:
    """The per-model table as a booktabs ``tabular``: units in the headers, the interval over
    trials in brackets, estimated figures starred, failed runs and failed checks marked."""
    rows = []
    for _, row in table.iterrows():
        total = with_interval(row["total_wh_per_1000_queries"],
                              row["total_wh_per_1000_queries_ci_low"],
                              row["total_wh_per_1000_queries_ci_high"])
        status = row["status"] if pd.isna(row["failed_checks"]) \
            else f"{row['status']}, checks failed: {row['failed_checks']}"
        rows.append({
            "Model": row["model"],
            "Class": "--" if pd.isna(row["model_class"]) else row["model_class"],
            "GPU energy (Wh/1,000 queries)": with_interval(
                row["wh_per_1000_queries"], row["wh_per_1000_queries_ci_low"],
                row["wh_per_1000_queries_ci_high"]),
            "Total energy (Wh/1,000 queries)": total + ("*" if row["estimated"] is True
                                                        and total != "--" else ""),
            "Energy per token (J)": with_interval(row["joules_per_token"], None, None),
            "Status": status,
        })
    frame = pd.DataFrame(rows, columns=["Model", "Class", "GPU energy (Wh/1,000 queries)",
                                        "Total energy (Wh/1,000 queries)",
                                        "Energy per token (J)", "Status"])
    styler = frame.style.hide(axis="index").format(escape="latex") \
        .format_index(escape="latex", axis=1)
    return styler.to_latex(hrules=True, column_format="llllll") + LATEX_NOTE


def write_tables(reports: list[Report], models: pd.DataFrame,
                 outputs: dict[str, str | Path]) -> None:
    """Write every table named in ``outputs`` (keys: trials, phases, latency, checks, latex;
    the LaTeX table from ``models``, the models table of the same reports)."""
    frames = {"trials": trials_table, "phases": phases_table, "latency": latency_table,
              "checks": checks_table}
    for name, make in frames.items():
        write_atomic(outputs[name], make(reports).to_csv(index=False))
    write_atomic(outputs["latex"], models_latex(models))
