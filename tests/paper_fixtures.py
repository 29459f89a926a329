"""Reports for the paper outputs' tests: a real CPU report (tests/data/paper) varied into
GPU runs, failed runs, served models and bad files. Every made report follows the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from energybench.run.report import Report, validate_report

DATA = Path(__file__).parent / "data" / "paper"
BASE = json.loads((DATA / "cpu_report.json").read_text())
RESPONSES = BASE["summary"]["successful_prompts"]


def trial_statistics(values: list[float]) -> dict:
    mean = sum(values) / len(values)
    spread = (max(values) - min(values)) / 2 if len(values) > 1 else None
    return {
        "gross": {
            "values": values,
            "n_valid": len(values),
            "mean": mean,
            "ci_low": None if spread is None else mean - spread,
            "ci_high": None if spread is None else mean + spread,
            "confidence_level": 0.95,
            "ci_method": "test interval",
        }
    }


def gpu_report(
    model: str,
    wh_per_1000: float,
    *,
    model_class: str = "B",
    task: str = "text_generation",
    spread: float = 0.1,
    estimated: bool = False,
) -> dict:
    """The CPU report with a measured GPU using ``wh_per_1000`` Wh per 1,000 queries (three
    trials, ``spread`` apart relative to the mean)."""
    report = copy.deepcopy(BASE)
    report["model"] = model
    report["config"].update({"class": model_class, "task": task, "model": model})
    gpu_j = wh_per_1000 * 3600 * RESPONSES / 1000
    values = [gpu_j * (1 - spread), gpu_j, gpu_j * (1 + spread)]
    energy = report["energy"]
    energy["components"]["gpu"].update(
        gross_joules=gpu_j,
        source="estimate" if estimated else "nvml",
        estimated=estimated,
        reason="test estimate" if estimated else None,
        devices=["nvml:0"],
        trial_statistics=trial_statistics(values),
    )
    others = sum(energy["components"][c]["gross_joules"] for c in ("cpu", "ram"))
    energy["total"].update(
        gross_joules=gpu_j + others,
        reason=None,
        trial_statistics=trial_statistics([v + others for v in values]),
    )
    energy["gpu_energy_wh"] = gpu_j / 3600
    energy["total_energy_wh"] = (gpu_j + others) / 3600
    tokens = report["summary"]["total_completion_tokens"]
    report["metrics"].update(
        wh_per_1000_queries=wh_per_1000,
        total_wh_per_1000_queries=(gpu_j + others) / 3.6 / RESPONSES,
        joules_per_token=(gpu_j + others) / tokens,
    )
    # The per-trial figures over the trials, as energybench.run.report_builder computes them.
    report["metrics"]["trial_statistics"].update(
        wh_per_1000_queries=trial_statistics([v / 3.6 / RESPONSES for v in values])["gross"],
        total_wh_per_1000_queries=trial_statistics(
            [(v + others) / 3.6 / RESPONSES for v in values]
        )["gross"],
    )
    validate_report(report)
    return report


def with_split(report: dict, prefill_j: float, decode_j: float) -> dict:
    """``report`` with a valid prefill/decode split: each component's mean phases a third of
    ``prefill_j`` and ``decode_j`` (the three components are counted)."""
    report = copy.deepcopy(report)
    for component in ("gpu", "cpu", "ram"):
        mean = report["phases"]["mean"][component]
        for part, joules in (("prefill", prefill_j), ("decode", decode_j)):
            mean[part].update(values=[joules / 3], n_valid=1, mean=joules / 3, reason=None)
        mean["invalid_reasons"] = []
    validate_report(report)
    return report


def typed(reports: list[dict]) -> list[Report]:
    """The reports as the paper outputs read them (energybench.publish.paper.stored)."""
    return [Report.from_dict(report) for report in reports]


def failed(model: str, model_class: str = "B") -> dict:
    config = {**BASE["config"], "class": model_class, "model": model}
    report = Report.failed(
        model, config, RuntimeError(f"model {model}: out of memory"), BASE["provenance"]
    ).to_dict()
    validate_report(report)
    return report


def served(model: str, wh_per_1000: float, model_class: str = "B") -> dict:
    """A served model: a latency section and no prefill/decode split."""
    report = gpu_report(model, wh_per_1000, model_class=model_class)
    report["config"]["backend"] = "vllm"
    report["phases"] = None
    stats = {"count": 100, "mean": 0.05, "median": 0.04, "p90": 0.09, "p99": 0.2}
    steady = {
        "index": 0,
        "start_s": 3.0,
        "end_s": 5.0,
        "duration_s": 2.0,
        "output_tokens": 90,
        "reason": None,
        "completion_tokens_per_second": 45.0,
        "energy": {},
        "total_gross_joules": 40.0,
        "joules_per_token": 40.0 / 90,
    }
    report["steady_state"] = {
        "definition": "test",
        "trials": [steady],
        "energy": None,
        "reason": None,
        "joules_per_token": {},
    }
    report["latency"] = {
        "definition": "test",
        "requests_file": None,
        "trials": [],
        **{
            m: {k: v * scale if k != "count" else v for k, v in stats.items()}
            for m, scale in (("ttft_s", 1), ("itl_s", 0.2), ("tpot_s", 0.25), ("e2e_latency_s", 20))
        },
    }
    validate_report(report)
    return report


def classified(model: str, wh_per_1000: float) -> dict:
    """A text classifier (energybench.run.backends.text_classification): texts per second, no
    generated token, so no per-token figure and no prefill/decode split."""
    report = gpu_report(model, wh_per_1000, task="text_classification")
    summary = report["summary"]
    summary.update(
        total_completion_tokens=0,
        total_tokens=summary["total_prompt_tokens"],
        avg_time_to_first_token=None,
    )
    # The fields a classification adds, in the order its report holds them.
    summary.update(
        avg_served_latency_seconds=summary["avg_latency_seconds"],
        avg_served_time_to_first_token=None,
        completion_tokens_per_second=None,
        queries_per_second=RESPONSES / summary["total_duration_seconds"],
    )
    why = "1 of 1 trials invalid: trial 0 (the task generates no tokens)"
    report["metrics"].update(
        joules_per_token=None, net_joules_per_token=None, tokens_per_joule=None
    )
    report["metrics"]["null_reasons"].update(
        {"total.j_per_token": why, "net.j_per_token": why, "total.tokens_per_joule": why}
    )
    report["phases"] = None
    validate_report(report)
    return report


def write_runs(runs: Path, reports: list[dict], timeline: bool = True) -> list[Path]:
    """Lay ``reports`` out like results/runs/; return their paths."""
    paths = []
    for report in reports:
        folder = runs / report["model"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "benchmark_report.json").write_text(json.dumps(report))
        if timeline and report["status"] == "succeeded":
            (folder / "power_timeline.csv").write_text((DATA / "power_timeline.csv").read_text())
        paths.append(folder / "benchmark_report.json")
    return paths


def many_reports(count: int) -> list[dict]:
    """``count`` models for the figures' large forms: GPU runs over classes A to C whose
    energy spans two decades, with varied throughput, two in three with a valid prefill/decode
    split; one in twenty failed, one in twenty estimated, three in twenty served with varied
    latencies (one in a hundred without inter-token latency)."""
    reports = []
    for i in range(count):
        kind = i % 20
        if kind == 0:
            reports.append(failed(f"failed-{i:04d}"))
        elif kind in (1, 4, 7):
            report = served(f"served-{i:04d}", 0.3 + (i % 97) * 0.2)
            for metric in ("ttft_s", "itl_s", "tpot_s", "e2e_latency_s"):
                for name in ("mean", "median", "p90", "p99"):
                    report["latency"][metric][name] *= 1.02 ** (i % 150)
            if i % 100 == 1:
                report["latency"]["itl_s"] = None
            reports.append(report)
        elif kind == 2:
            reports.append(gpu_report(f"estimated-{i:04d}", 0.3 + (i % 89) * 0.1, estimated=True))
        else:
            report = gpu_report(f"model-{i:04d}", 0.2 * 1.005**i, model_class="ABC"[i % 3])
            report["summary"]["completion_tokens_per_second"] = 20.0 + (i * 7919 % 997) * (
                1 + i / 300
            )
            if kind % 3:
                report = with_split(report, 0.5 * 1.004**i, 3 * 1.003**i)
            reports.append(report)
    return reports
