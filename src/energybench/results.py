"""Turn a backend's timed, metered trials into the report's summary, energy and metrics."""

from __future__ import annotations

import statistics

from energybench.backends.pytorch import PhaseRun, TrialRun
from energybench.config import RunConfig

COMPONENTS = ("gpu", "cpu", "ram")
JOULES_PER_WH = 3600.0
ENERGY_BASIS = (
    "gross energy of the measured generation (all prompts, full output), mean over trials; "
    "idle and net (dynamic) energy beside it in components"
)


def _mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def phase_summary(phase: PhaseRun) -> dict:
    """Latency and token figures of one measured window."""
    batches = phase.batches
    prompts = sum(b.prompts for b in batches)
    duration = phase.measurement.duration_s
    completion = sum(b.completion_tokens for b in batches)
    prompt_tokens = sum(b.prompt_tokens for b in batches)
    ttfts = [(b.time_to_first_token_s, b.prompts) for b in batches
             if b.time_to_first_token_s is not None]
    return {
        "total_prompts": prompts,
        "successful_prompts": prompts,
        "failed_prompts": 0,
        "total_duration_seconds": duration,
        # Every prompt of a batch waits for the whole batch: its latency is the batch's.
        "avg_latency_seconds": sum(b.latency_s * b.prompts for b in batches) / prompts,
        "avg_time_to_first_token": (sum(t * n for t, n in ttfts) / sum(n for _, n in ttfts))
        if ttfts else None,
        "total_tokens": prompt_tokens + completion,
        "total_prompt_tokens": prompt_tokens,
        "total_completion_tokens": completion,
        "throughput_tokens_per_second": completion / duration if duration > 0 else None,
    }


def summary_over_trials(trials: list[TrialRun]) -> dict:
    """The AI Energy Score summary: token counts of one trial, times averaged over trials."""
    per_trial = [phase_summary(t.generate) for t in trials]
    summary = dict(per_trial[0])
    for key in ("total_duration_seconds", "avg_latency_seconds", "avg_time_to_first_token",
                "throughput_tokens_per_second"):
        summary[key] = _mean(s[key] for s in per_trial)
    return summary


def not_applicable(reason: str) -> dict:
    return {"gross_joules": None, "idle_joules": None, "net_joules": None, "source": None,
            "estimated": False, "reason": reason, "devices": [], "applicable": False}


def component_over_trials(measured: list, durations: list[float], idle) -> dict:
    """Gross, idle and net energy of one component, averaged over trials."""
    first = measured[0]
    gross = [m.joules for m in measured]
    if any(g is None for g in gross):
        reason = next(m.reason for m in measured if m.joules is None)
        return {**not_applicable(reason), "source": first.source, "applicable": True}
    idle_watts = getattr(idle, "watts", None)
    idle_j = None if idle_watts is None else [idle_watts * d for d in durations]
    return {
        "gross_joules": statistics.fmean(gross),
        "idle_joules": None if idle_j is None else statistics.fmean(idle_j),
        "net_joules": None if idle_j is None else statistics.fmean(g - i for g, i in zip(gross, idle_j)),
        "source": first.source,
        "estimated": first.estimated,
        "reason": first.reason,
        "devices": list(first.devices),
        "applicable": True,
    }


def total_of(components: dict) -> dict:
    """Sum of the applicable components; unknown when any applicable one is unknown."""
    used = [c for c in components.values() if c.pop("applicable")]
    missing = [name for name, c in components.items() if c in used and c["gross_joules"] is None]
    if missing:
        unknown = not_applicable(f"{', '.join(missing)} energy unknown")
        del unknown["applicable"]
        return unknown

    def add(key):
        values = [c[key] for c in used]
        return None if any(v is None for v in values) else sum(values)
    return {"gross_joules": add("gross_joules"), "idle_joules": add("idle_joules"),
            "net_joules": add("net_joules"), "source": None,
            "estimated": any(c["estimated"] for c in used), "reason": None,
            "devices": sorted({d for c in used for d in c["devices"]})}


def derived_metrics(total_joules, gpu_joules, completion_tokens, responses,
                    carbon_intensity_g_per_kwh) -> dict:
    def ratio(a, b):
        return None if a is None or not b else a / b
    return {
        "joules_per_token": ratio(total_joules, completion_tokens),
        "joules_per_response": ratio(total_joules, responses),
        "wh_per_1000_queries": ratio(_wh(gpu_joules), responses / 1000),
        "total_wh_per_1000_queries": ratio(_wh(total_joules), responses / 1000),
        "tokens_per_joule": ratio(completion_tokens, total_joules),
        "co2_emissions_g": None if total_joules is None
        else total_joules / JOULES_PER_WH / 1000 * carbon_intensity_g_per_kwh,
        "carbon_intensity_g_per_kwh": carbon_intensity_g_per_kwh,
    }


def _wh(joules):
    return None if joules is None else joules / JOULES_PER_WH


def energy_section(cfg: RunConfig, trials: list[TrialRun], idle, device: str) -> dict:
    components = {}
    for name in COMPONENTS:
        if name == "gpu" and device != "cuda":
            components[name] = not_applicable("the run used no GPU")
            continue
        components[name] = component_over_trials(
            [t.generate.measurement.components[name] for t in trials],
            [t.generate.measurement.duration_s for t in trials],
            idle.components.get(name),
        )
    total = total_of(components)
    section = {}
    for name, component in [*components.items(), ("total", total)]:
        section[f"{name}_energy_wh"] = _wh(component["gross_joules"])
        section[f"{name}_energy_kwh"] = None if component["gross_joules"] is None \
            else component["gross_joules"] / JOULES_PER_WH / 1000
    section.update(basis=ENERGY_BASIS, components=components, total=total)
    return section


def metrics_section(cfg: RunConfig, summary: dict, energy_block: dict) -> dict:
    return derived_metrics(
        total_joules=energy_block["total"]["gross_joules"],
        gpu_joules=energy_block["components"]["gpu"]["gross_joules"],
        completion_tokens=summary["total_completion_tokens"],
        responses=summary["successful_prompts"],
        carbon_intensity_g_per_kwh=cfg.measurement.carbon_intensity_g_per_kwh,
    )
