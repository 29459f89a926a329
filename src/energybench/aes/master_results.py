"""AI Energy Score's ``master_results.csv``: its 21 columns in its order, each figure by its
definition (docs/aes.md), so AES's own readers take our table unchanged.

AES's definitions, which differ from ours in ``models.csv``:
- ``tokens_per_joule``: prompt + completion tokens over GPU energy;
- ``throughput_tokens_per_second``: prompt + completion tokens per second;
- ``avg_total_time`` / ``avg_time_to_first_token``: each prompt timed alone (batch size 1);
- ``gpu_energy_wh`` and everything derived from it: GPU energy only.

Conventions: a failed run is AES's failed row (its error in ``error_message``, counts and
figures 0, which AES's readers skip because of the message); a run that succeeded but whose
GPU energy (or a timing by AES's definition) is unknown gets ``nan`` in those cells, which
AES's readers parse and no one can take for a measurement; AES's own guards would write 0.
"""

from __future__ import annotations

import math
from pathlib import Path

from energybench.aes.identity import identity
from energybench.run.energy.trials import trial_statistics
from energybench.run.energy.units import tokens_per_joule
from energybench.run.files import csv_text, write_atomic
from energybench.run.report import Report

COLUMNS = [
    "model_name",
    "model_class",
    "task",
    "reasoning_state",
    "total_prompts",
    "successful_prompts",
    "failed_prompts",
    "total_duration_seconds",
    "avg_total_time",
    "avg_time_to_first_token",
    "total_tokens",
    "total_prompt_tokens",
    "total_completion_tokens",
    "throughput_tokens_per_second",
    "gpu_energy_wh",
    "wh_per_1000_queries",
    "co2_emissions_g",
    "tokens_per_joule",
    "avg_energy_per_prompt_wh",
    "timestamp",
    "error_message",
]
UNKNOWN = "nan"
# AES warns when more than this share of prompts failed (its normalized figures skew).
HIGH_FAILURE_PERCENT = 5.0


def fixed(value: float | None, decimals: int) -> str:
    """AES's fixed-point cell, or ``nan`` for an unknown figure."""
    return UNKNOWN if value is None or math.isnan(value) else f"{value:.{decimals}f}"


def partial_failure_message(failed: int, total: int) -> str:
    """AES's message for a run in which some prompts failed."""
    rate = failed / total * 100 if total > 0 else 0
    message = f"PARTIAL FAILURE: {failed}/{total} prompts failed ({rate:.1f}%)"
    if rate > HIGH_FAILURE_PERCENT:
        message += (
            " - WARNING: High failure rate may skew normalized metrics (wh_per_1000_queries, etc.)"
        )
    return message


def partial_failure(report: Report) -> str:
    """AES's message for the trial that lost the most prompts, or ``""`` when none lost any.
    The summary's counts are the first trial's; a served model's later trial may have
    failed requests the first did not, which the row must not present as a clean run."""
    total = report.summary.total_prompts
    # (failed prompts, trial): the summary's first, so it is the one named on a tie
    counts = [(report.summary.failed_prompts, None)] + [
        (total - t.successful_prompts, t.index)
        for t in report.trials
        if t.successful_prompts is not None
    ]
    failed, trial = max(counts, key=lambda count: count[0])
    if failed <= 0:
        return ""
    message = partial_failure_message(failed, total)
    return (
        message
        if trial is None
        else f"{message} (in trial {trial}; the counts are the first trial's)"
    )


def failed_row(names: dict, error_message: str, timestamp: str | None) -> dict:
    """AES's row for a run that produced no result."""
    zeros4 = fixed(0.0, 4)
    return {
        **names,
        "total_prompts": 0,
        "successful_prompts": 0,
        "failed_prompts": 0,
        "total_duration_seconds": fixed(0.0, 2),
        "avg_total_time": zeros4,
        "avg_time_to_first_token": zeros4,
        "total_tokens": 0,
        "total_prompt_tokens": 0,
        "total_completion_tokens": 0,
        "throughput_tokens_per_second": fixed(0.0, 2),
        "gpu_energy_wh": zeros4,
        "wh_per_1000_queries": zeros4,
        "co2_emissions_g": zeros4,
        "tokens_per_joule": zeros4,
        "avg_energy_per_prompt_wh": zeros4,
        "timestamp": timestamp or "",
        "error_message": error_message,
    }


def tokens_per_gpu_joule(report: Report) -> float | None:
    """AES's tokens per joule: each trial's prompt and completion tokens over that trial's
    GPU joules, mean over the trials (trials of a sampled or reasoning model generate
    different counts); a report without per-trial counts: the summary's over the mean."""
    tokens = [trial.total_tokens for trial in report.trials]
    joules = report.energy.gpu.gross.values
    if not tokens or None in tokens or joules is None or len(joules) != len(tokens):
        return tokens_per_joule(report.summary.total_tokens, report.energy.gpu.gross_joules)
    return trial_statistics(
        [None if j is None else tokens_per_joule(n, j) for n, j in zip(tokens, joules)]
    ).mean


def gpu_figures(report: Report) -> dict:
    """AES's GPU-energy figures; unknown (not 0) when the GPU energy is unknown, 0 where AES's
    guards write 0 (no GPU energy or no successful query). The energy per query is the
    report's; tokens per joule is AES's own (prompt and completion tokens per GPU joule)."""
    gpu_joules = report.energy.gpu.gross_joules
    if gpu_joules is None:
        return {
            "wh_per_1000_queries": None,
            "tokens_per_joule": None,
            "avg_energy_per_prompt_wh": None,
        }
    tokens = report.summary.total_tokens or 0  # AES counts prompt and completion tokens
    measured = gpu_joules > 0 and (report.summary.successful_prompts or 0) > 0
    return {
        "wh_per_1000_queries": report.wh_per_1000_queries["gpu"] if measured else 0.0,
        "tokens_per_joule": tokens_per_gpu_joule(report) if tokens > 0 else 0.0,
        "avg_energy_per_prompt_wh": report.wh_per_query["gpu"] if measured else 0.0,
    }


def aes_row(report: Report) -> dict:
    """One row of master_results.csv from one report."""
    names = identity(report.config, report.model)
    timestamp = report.provenance.finished_at
    if not report.succeeded:
        return failed_row(names, report.error_text or f"RunFailed: {report.status}", timestamp)
    summary = report.summary
    figures = gpu_figures(report)
    return {
        **names,
        "total_prompts": summary.total_prompts,
        "successful_prompts": summary.successful_prompts,
        "failed_prompts": summary.failed_prompts,
        "total_duration_seconds": fixed(summary.total_duration_seconds, 2),
        "avg_total_time": fixed(summary.avg_latency_seconds, 4),
        "avg_time_to_first_token": fixed(summary.avg_time_to_first_token, 4),
        "total_tokens": summary.total_tokens,
        "total_prompt_tokens": summary.total_prompt_tokens,
        "total_completion_tokens": summary.total_completion_tokens,
        "throughput_tokens_per_second": fixed(summary.throughput_tokens_per_second, 2),
        "gpu_energy_wh": fixed(report.energy.gpu_energy_wh, 4),
        "wh_per_1000_queries": fixed(figures["wh_per_1000_queries"], 4),
        "co2_emissions_g": fixed(report.metrics.co2_emissions_g, 4),
        "tokens_per_joule": fixed(figures["tokens_per_joule"], 4),
        "avg_energy_per_prompt_wh": fixed(figures["avg_energy_per_prompt_wh"], 4),
        "timestamp": timestamp or "",
        "error_message": partial_failure(report),
    }


def master_results_text(rows: list[dict]) -> str:
    return csv_text(COLUMNS, ([row.get(column, "") for column in COLUMNS] for row in rows))


def write_master_results(reports: list[Report], output: str | Path) -> Path:
    """Write master_results.csv for ``reports`` atomically."""
    return write_atomic(output, master_results_text([aes_row(report) for report in reports]))
