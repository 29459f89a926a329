"""One benchmark report as a row of models.csv (energybench.publish.paper.tables writes the table).

The first columns follow the AI Energy Score batch runner's ``master_results.csv`` (written
beside it by energybench.aes.master_results), renamed where our definition differs; ours
follow. A missing figure stays empty (NaN), never 0.
"""

from __future__ import annotations

from energybench.aes.identity import identity
from energybench.aes.master_results import COLUMNS as AES_COLUMNS
from energybench.publish.paper.ranking import estimated_share
from energybench.run.quantization import scheme
from energybench.run.report import COMPONENTS, Report
from energybench.run.sections import Metrics
from energybench.run.tasks import known_task

# AES's own table is energybench.aes.master_results. This one keeps our definitions, under
# our own names where they differ from AES's (docs/aes.md).
OURS_FOR_AES = {
    "avg_total_time": "avg_served_latency_seconds",
    "avg_time_to_first_token": "avg_served_time_to_first_token",
    "throughput_tokens_per_second": "completion_tokens_per_second",
    "tokens_per_joule": "completion_tokens_per_joule",
}
AI_ENERGY_SCORE_COLUMNS = [OURS_FOR_AES.get(c, c) for c in AES_COLUMNS]
OUR_COLUMNS = [
    "model",
    "status",
    "cpu_energy_wh",
    "ram_energy_wh",
    "total_energy_wh",
    "total_wh_per_1000_queries",
    "joules_per_token",
    "gpu_source",
    "cpu_source",
    "ram_source",
    "estimated",
    "estimated_share",
    "missing_energy",
    "failed_checks",
    "backend",
    "quantization",
    "runtime",
    "config_hash",
    "code_version",
    "protocol",
    "trials",
    "load_seconds",
    "load_gross_joules",
    "load_net_joules",
    "peak_gpu_used_bytes",
    "peak_framework_allocated_bytes",
    "peak_framework_reserved_bytes",
    "peak_host_bytes",
    "wh_per_1000_queries_ci_low",
    "wh_per_1000_queries_ci_high",
    "total_wh_per_1000_queries_ci_low",
    "total_wh_per_1000_queries_ci_high",
    "confidence_level",
    "ci_method",
    "note",
]
MODEL_COLUMNS = AI_ENERGY_SCORE_COLUMNS + OUR_COLUMNS  # models.csv's
SUMMARY_FIELDS = [
    "total_prompts",
    "successful_prompts",
    "failed_prompts",
    "total_duration_seconds",
    "total_tokens",
    "total_prompt_tokens",
    "total_completion_tokens",
]


def report_row(report: Report) -> dict:
    config, summary, energy, metrics = report.config, report.summary, report.energy, report.metrics
    components, provenance = energy.components, report.provenance
    row = {
        **identity(config, report.model),
        **{field: getattr(summary, field) for field in SUMMARY_FIELDS},
        # Each prompt's latency as served: its batch's (pytorch), its request's under load (vllm).
        "avg_served_latency_seconds": summary.avg_served_latency_seconds,
        "avg_served_time_to_first_token": summary.avg_served_time_to_first_token,
        "completion_tokens_per_second": summary.completion_tokens_per_second,
        "gpu_energy_wh": energy.gpu_energy_wh,
        "wh_per_1000_queries": metrics.wh_per_1000_queries,
        "co2_emissions_g": metrics.co2_emissions_g,
        "completion_tokens_per_joule": metrics.tokens_per_joule,
        "avg_energy_per_prompt_wh": report.wh_per_query["gpu"],
        "timestamp": provenance.finished_at,
        "error_message": report.error_text,
        "model": report.model,
        "status": report.status,
        "cpu_energy_wh": energy.cpu_energy_wh,
        "ram_energy_wh": energy.ram_energy_wh,
        "total_energy_wh": energy.total_energy_wh,
        "total_wh_per_1000_queries": metrics.total_wh_per_1000_queries,
        "joules_per_token": metrics.joules_per_token,
        **{f"{name}_source": components[name].source for name in COMPONENTS},
        "estimated": energy.estimated,
        # How much of the total is estimated: the total is marked estimated from
        # ranking.ESTIMATE_SHARE up (docs/paper.md).
        "estimated_share": estimated_share(energy),
        "missing_energy": "; ".join(f"{name}: {reason}" for name, reason in energy.missing.items())
        or None,
        "failed_checks": ";".join(report.failed_checks) or None,
        "backend": config.get("backend"),
        # Weights quantized as the model loaded (quanto-int8), or none: never its original.
        "quantization": scheme(config.get("quantization")) or "none",
        "runtime": provenance.runtime_name,
        "config_hash": provenance.config_hash,
        "code_version": provenance.code_version,
        # The generation protocol: a preset's name (docs/aes.md), else the model's settings.
        "protocol": config.get("protocol") or "as configured",
        "trials": len(report.trials),
        **load_and_memory_columns(report),
        **interval_columns(metrics),
        # Which report the row shows when a newer attempt failed (energybench.job.history).
        "note": report.note,
    }
    return row | task_columns(report)


def task_columns(report: Report) -> dict:
    """The figures the report's task declares (energybench.run.tasks) that the columns above do
    not hold (image generation's images, images per second and energy per image); none for
    text generation. The table adds each such column where a report holds it."""
    task = known_task(report.config.get("task"))
    if task is None:
        return {}
    return {
        name: getattr(getattr(report, section), name)
        for name, section in task.figures.items()
        if name not in MODEL_COLUMNS
    }


def load_and_memory_columns(report: Report) -> dict:
    """The model load (process start to model ready, and the total energy of its metered
    part) and the run's peak memory; empty where the report has none."""
    load, memory = report.load, report.memory
    return {
        "load_seconds": load.duration_s if load else None,
        "load_gross_joules": load.total.gross_joules if load else None,
        "load_net_joules": load.total.net_joules if load else None,
        "peak_gpu_used_bytes": memory.gpu_used_total_bytes if memory else None,
        "peak_framework_allocated_bytes": memory.framework_allocated_bytes if memory else None,
        "peak_framework_reserved_bytes": memory.framework_reserved_bytes if memory else None,
        "peak_host_bytes": memory.host_bytes if memory else None,
    }


def interval_columns(metrics: Metrics) -> dict:
    """The confidence interval over trials of the GPU and total energy per 1,000 queries, as
    the report holds it (empty where a run has fewer than two valid trials: no interval)."""
    columns = {}
    for figure in ("wh_per_1000_queries", "total_wh_per_1000_queries"):
        statistics = metrics.statistics(figure)
        columns.update(
            {f"{figure}_ci_low": statistics.ci_low, f"{figure}_ci_high": statistics.ci_high}
        )
        if statistics.ci_method:
            columns.update(
                confidence_level=statistics.confidence_level, ci_method=statistics.ci_method
            )
    return columns
