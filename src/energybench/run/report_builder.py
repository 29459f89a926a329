"""Build a completed run's report from a backend's metered trials: its summary, energy,
metrics, checks, trials and phases, each built as its typed section (energybench.run.sections).
All arithmetic is energybench.run.energy's; this module only arranges it. docs/energy.md
defines every figure."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping

from energybench.run.backends import Trial
from energybench.run.distribution import distribution
from energybench.run.energy import (
    NetEnergy,
    check_trial_variation,
    efficiency_figures,
    joules_to_kwh,
    joules_to_wh,
    subtract_idle,
    trial_statistics,
)
from energybench.run.energy.trials import CI_METHOD, TrialStatistics
from energybench.run.meters import ComponentEnergy, IdleBaseline, WindowMeasurement
from energybench.run.energy.phases import split_window_phases
from energybench.run.meters.measurement import ESTIMATE, NVML_POWER_INTEGRAL
from energybench.run.meters.memory import PeakMemory
from energybench.run.report import (
    COMPONENTS,
    FAILED,
    SCHEMA_VERSION,
    SUCCEEDED,
    Report,
    RunError,
    unknown_component,
)
from energybench.run.tasks import known_task
from energybench.run.sections import (
    CheckResult,
    ComponentFigures,
    EnergySection,
    Idle,
    Latency,
    LatencyStatistics,
    Load,
    Memory,
    Metrics,
    PhaseMean,
    Phases,
    PhaseTrial,
    Provenance,
    SteadyState,
    SteadyTrial,
    Summary,
    TrialFigures,
    TrialRecord,
    WarmUp,
    WindowEnergy,
)

ENERGY_BASIS = (
    "gross energy of the measured window (all prompts, full output), mean over trials; "
    "idle (idle power x duration) and net (gross - idle) beside it in components; every mean "
    "is over all trials (null with the invalid trials named when any is invalid)"
)
METRICS_BASIS = (
    "each figure computed per trial from that trial's energy and its own token and response "
    "counts, then averaged over all trials (trial_statistics)"
)
PHASES_DEFINITION = (
    "prefill: a 1-token generation over the same batches, repeated until the window is long "
    "enough for the meters (NVML: 10 s) and ran at least 10 batches, divided by the passes; "
    "valid when its window passes the checks; generate: the full generation, per pass where "
    "its window repeats passes to be long enough; decode = generate - prefill when both are "
    "valid, null with reason when negative or below the meters' resolution"
)
STEADY_STATE_BASIS = (
    "gross energy of the steady-state window (from the moment the server's batch is full, L "
    "requests decoding, to the moment the queue starts to drain), measured live with the "
    "counters where they exist (NVML, RAPL), else the sampled power, mean over the trials "
    "whose batch stayed full"
)
LOAD_DEFINITION = (
    "loading the model: duration_s from the run's process start to the model ready "
    "(before_meters_s of it before the meters opened); energy over metered_s, from the meters' "
    "opening to the model ready: gross, idle (the run's idle power x metered_s) and net per "
    "component and in total; paid once per model, never part of the inference figures"
)
MEMORY_DEFINITION = (
    "peak memory of the run in bytes: gpu_used_bytes per device, the highest memory in use "
    "NVML reported at any sample of the power timeline (the whole device's); the framework's "
    "own peaks of the run's device (allocated by tensors, reserved by its caching allocator); "
    "host_bytes as host_source says (a container's cgroup peak, the kernel's peak resident "
    "set of the run's process, or its process tree's resident memory as sampled)"
)
LATENCY_DEFINITION = (
    "per-request latencies of the successful requests of all trials, in seconds: ttft_s time "
    "to first token; itl_s gaps between streamed chunks with text; tpot_s (e2e - ttft) / "
    "(output tokens - 1); e2e_latency_s sending to the end of the stream"
)
TIMING_FIELDS = (
    "total_duration_seconds",
    "avg_latency_seconds",
    "avg_time_to_first_token",
    "throughput_tokens_per_second",
    "avg_served_latency_seconds",
    "avg_served_time_to_first_token",
    "completion_tokens_per_second",
    "queries_per_second",
)


def _mean(values):
    """The mean over every trial; unknown when any trial's value is (a mean over the others
    would time a different subset of trials from the run's energy figures)."""
    values = list(values)
    return None if not values or None in values else statistics.fmean(values)


def figures(statistics_: TrialStatistics) -> TrialFigures:
    """A figure over the trials as the report holds it."""
    return TrialFigures.of(**statistics_.to_dict())


def summary_section(trials: list[Trial]) -> Summary:
    """The AI Energy Score summary: counts of the first trial, timings averaged over trials.

    Greedy decoding makes every trial produce the same tokens, so counts do not vary.
    """
    summary = dict(trials[0].summary)
    for key in TIMING_FIELDS:
        if key in summary:  # each backend reports its own subset
            summary[key] = _mean(t.summary[key] for t in trials)
    return Summary.of(**summary)


def counted_components(uncounted: Mapping[str, str]) -> tuple[str, ...]:
    """Components whose energy belongs to the run (the backend names those that do not)."""
    return tuple(name for name in COMPONENTS if name not in uncounted)


def counted_window(window: WindowMeasurement, uncounted: Mapping[str, str]) -> WindowMeasurement:
    """The window without the components that do not belong to the run."""
    return dataclasses.replace(
        window,
        components={
            name: energy for name, energy in window.components.items() if name not in uncounted
        },
    )


# Weakest first: an estimate is a model, a power integral a sampled reading, a counter exact.
SOURCE_STRENGTH = {ESTIMATE: 0, NVML_POWER_INTEGRAL: 1}


def weakest(measured: list[ComponentEnergy]) -> ComponentEnergy:
    """The trial whose figure is the weakest kind of measurement (the first of equals): it
    labels the component's figure over the trials (source, reason, devices, estimate model)."""
    return min(measured, key=lambda m: (not m.estimated, SOURCE_STRENGTH.get(m.source, 2)))


def component_block(
    name: str, windows: list[WindowMeasurement], idle: IdleBaseline | None
) -> ComponentFigures:
    """Gross, idle and net energy of one component, mean over the trials' windows (all of
    them, so gross = idle + net), with trial statistics."""
    measured = [w.components[name] for w in windows]
    splits = [w.net(idle)[name] for w in windows]
    gross = trial_statistics([m.joules for m in measured], reasons=[m.reason for m in measured])
    idle_energy = trial_statistics([s.idle_j for s in splits], reasons=[s.reason for s in splits])
    net = trial_statistics([s.net_j for s in splits], reasons=[s.reason for s in splits])
    # Labelled by its weakest trial: an estimate in any trial makes the figure an estimate,
    # a GPU power integral in any trial a power integral (as within one window, docs/energy.md).
    first = weakest(measured)
    sources = sorted({m.source for m in measured if m.source})
    notes = list(first.notes)
    if len(sources) > 1:
        notes.append(f"sources differ across trials: {', '.join(sources)}")
    reason = first.reason
    if gross.mean is None:
        reason = next((m.reason for m in measured if m.joules is None and m.reason), gross.reason)
    baseline = idle.components.get(name) if idle else None
    return ComponentFigures.of(
        gross_joules=gross.mean,
        idle_joules=idle_energy.mean,
        net_joules=net.mean,
        net_reason=net.reason if net.mean is None else None,
        idle_power_watts=baseline.watts if baseline else None,
        source=first.source,
        estimated=any(m.estimated for m in measured),
        reason=reason,
        devices=list(first.devices),
        notes=notes,
        trial_statistics={"gross": figures(gross), "net": figures(net)},
        # Per trial: per-device joules, counter vs integrated power, resolution, estimate model.
        meter_detail=[m.detail for m in measured],
    )


def total_split(window: WindowMeasurement, idle: IdleBaseline | None, names) -> NetEnergy:
    """Gross, idle and net energy of the counted components together over one window.

    Net is the total gross minus the total idle, so a component a hair below its own idle
    (a DRAM domain with little dynamic power, within its resolution or not) never voids the
    total: it contributes its small negative difference, as measured."""
    if not names:
        return NetEnergy(None, None, None, None, window.duration_s, "no component counts")
    gross = [window.components[n].joules for n in names]
    unknown = [n for n, g in zip(names, gross) if g is None]
    if unknown:
        return NetEnergy(
            None,
            None,
            None,
            None,
            window.duration_s,
            "; ".join(
                f"{n} energy unknown ({window.components[n].reason or 'no reason given'})"
                for n in unknown
            ),
        )
    baselines = [idle.components.get(n) if idle else None for n in names]
    no_idle = [n for n, b in zip(names, baselines) if b is None or b.watts is None]
    idle_reason = None
    if no_idle:
        idle_reason = "; ".join(
            f"{n}: {(b.reason if b else None) or 'no idle baseline measured'}"
            for n, b in zip(names, baselines)
            if n in no_idle
        )
    return subtract_idle(
        sum(gross),
        None if no_idle else sum(b.watts for b in baselines),
        window.duration_s,
        idle_reason=idle_reason,
        resolution_j=sum(window.components[n].detail.get("resolution_j") or 0.0 for n in names),
        idle_uncertainty_w=0.0 if no_idle else sum(b.uncertainty_w or 0.0 for b in baselines),
    )


def window_total(window: WindowMeasurement, idle, names, kind: str) -> float | None:
    """Gross, idle or net energy (``kind``) of the counted components of one window together;
    unknown when any of them is unknown, or when no component counts."""
    return getattr(total_split(window, idle, names), f"{kind}_j")


def energy_section(
    windows: list[WindowMeasurement], idle: IdleBaseline | None, uncounted: Mapping[str, str]
) -> EnergySection:
    """Energy of the trials' ``windows``: per component (those in ``uncounted`` null with
    their reason, never zero) and in total."""
    names = counted_components(uncounted)
    components = {
        name: component_block(name, windows, idle)
        if name in names
        else unknown_component(uncounted[name])
        for name in COMPONENTS
    }
    splits = [total_split(w, idle, names) for w in windows]
    why = [s.reason for s in splits]
    gross = trial_statistics([s.gross_j for s in splits], reasons=why)
    net = trial_statistics([s.net_j for s in splits], reasons=why)
    idle_total = trial_statistics([s.idle_j for s in splits], reasons=why)
    unknown = [n for n in names if components[n].gross_joules is None]
    if not names:
        reason = "; ".join(dict.fromkeys(uncounted.values()))
    else:
        reason = "; ".join(f"{n} energy unknown ({components[n].reason})" for n in unknown) or None
    total = ComponentFigures.of(
        gross_joules=gross.mean,
        idle_joules=idle_total.mean,
        net_joules=net.mean,
        net_reason=net.reason if net.mean is None else None,
        source=None,
        estimated=any(components[n].estimated for n in names),
        reason=reason,
        devices=sorted({d for n in names for d in components[n].devices}),
        components=list(names),
        trial_statistics={"gross": figures(gross), "net": figures(net)},
    )
    units = {}
    for name, block in [*components.items(), ("total", total)]:
        units[f"{name}_energy_wh"] = joules_to_wh(block.gross_joules)
        units[f"{name}_energy_kwh"] = joules_to_kwh(block.gross_joules)
    return EnergySection.of(
        **units,
        basis=ENERGY_BASIS,
        components=components,
        total=total,
        methods=methods(windows, idle, names),
    )


def methods(windows: list[WindowMeasurement], idle: IdleBaseline | None, names) -> dict:
    """How the figures were made: the confidence interval, the estimate models in use (with
    what they assume) and how the idle baseline was taken."""
    estimates = {}
    for name in names:
        energy = weakest([w.components[name] for w in windows])
        if energy.estimated:
            estimates[name] = {key: energy.detail.get(key) for key in ("model", "assumes")} | {
                "why": energy.reason
            }
    return {
        "interval": CI_METHOD,
        "estimates": estimates,
        "idle_baseline": idle.method if idle else None,
    }


# metrics key -> (energy: "total" | "net" | "gpu", efficiency_figures key)
METRIC_FIGURES = {
    "joules_per_token": ("total", "j_per_token"),
    "net_joules_per_token": ("net", "j_per_token"),
    "joules_per_response": ("total", "j_per_response"),
    "wh_per_1000_queries": ("gpu", "wh_per_1000_queries"),
    "total_wh_per_1000_queries": ("total", "wh_per_1000_queries"),
    "tokens_per_joule": ("total", "tokens_per_joule"),
    "co2_emissions_g": ("total", "co2_g"),
}


def metrics_section(
    summaries: list[dict],
    energy: EnergySection,
    carbon_intensity_g_per_kwh: float,
    task: str | None = None,
) -> Metrics:
    """Efficiency figures of the total energy, and the GPU-only figure AI Energy Score ranks by.

    ``summaries`` are the trials' own summaries, in trial order: each figure is computed per
    trial from that trial's energy and that trial's token and response counts (trials of a
    serving benchmark with failed requests, or of a reasoning model, count differently), then
    averaged over the trials like every other figure."""
    per_energy = {
        "total": energy.total.gross.values,
        "net": energy.total.trial_statistics["net"].values,
        "gpu": energy.gpu.gross.values or [None] * len(summaries),
    }
    unknown_why = {
        "total": energy.total.reason,
        "net": energy.total.net_reason or energy.total.reason,
        "gpu": energy.gpu.reason,
    }

    def per_trial(count: str) -> dict[str, list[dict]]:
        """Each energy's figures per trial, dividing by the summary field ``count``."""
        return {
            kind: [
                efficiency_figures(
                    joules,
                    tokens=tokens_of(summary),
                    responses=summary[count] or 0,
                    carbon_intensity_g_per_kwh=carbon_intensity_g_per_kwh,
                )
                for joules, summary in zip(values, summaries, strict=True)
            ]
            for kind, values in per_energy.items()
        }

    known = known_task(task)

    def tokens_of(summary: dict) -> int | None:
        """Generated tokens of a trial; None for a task that generates none (images)."""
        if known and not known.generates_tokens:
            return None
        return summary["total_completion_tokens"] or 0

    per_query = per_trial("successful_prompts")
    # (metrics field, energy, figure, per-trial figures, the key of its reason when null)
    figures_wanted = [
        (key, kind, figure, per_query, f"{kind}.{figure}")
        for key, (kind, figure) in METRIC_FIGURES.items()
    ]
    if known and known.unit_figures:
        per_unit = per_trial(known.unit_count)
        figures_wanted += [
            (key, kind, figure, per_unit, f"{kind}.{key}")
            for key, (kind, figure) in known.unit_figures.items()
        ]
    metrics, statistics_, reasons = {}, {}, {}
    for key, kind, figure, computed, reason_key in figures_wanted:
        why = [f["reasons"].get(figure) for f in computed[kind]]
        if unknown_why[kind]:
            why = [unknown_why[kind] if w == "energy unknown" else w for w in why]
        over_trials = trial_statistics([f[figure] for f in computed[kind]], reasons=why)
        metrics[key] = over_trials.mean
        statistics_[key] = figures(over_trials)
        if over_trials.mean is None:  # keyed "<energy>.<figure>", as the site and AES tools read
            reasons[reason_key] = over_trials.reason
    return Metrics.of(
        **metrics,
        carbon_intensity_g_per_kwh=carbon_intensity_g_per_kwh,
        basis=METRICS_BASIS,
        interval_method=CI_METHOD,
        trial_statistics=statistics_,
        null_reasons=reasons,
    )


def checks_section(
    trials: list[Trial],
    idle: IdleBaseline | None,
    energy: EnergySection,
    uncounted: Mapping[str, str],
) -> list[CheckResult]:
    """Every self-check, per trial where it concerns one window, of the counted components.
    A failed check flags its figure; it never hides it."""
    checks = []
    for trial in trials:
        for check in counted_window(trial.window, uncounted).checks(idle):
            checks.append(CheckResult.of(**check.to_dict(), trial=trial.index))
        for phase, window in trial.phase_windows.items():
            for check in counted_window(window, uncounted).checks(idle):
                checks.append(CheckResult.of(**check.to_dict(), trial=trial.index, window=phase))
        checks.extend(
            CheckResult.of(**check.to_dict(), trial=trial.index) for check in trial.checks
        )
    checks.append(CheckResult.of(**check_trial_variation(energy.total.gross.values).to_dict()))
    return checks


def window_energy(
    window: WindowMeasurement, idle: IdleBaseline | None, uncounted: Mapping[str, str]
) -> dict[str, WindowEnergy]:
    """Gross and net joules of each component of one window; uncounted ones null with why."""
    splits = window.net(idle)
    return {
        name: WindowEnergy.of(
            gross_joules=None, net_joules=None, source=None, reason=uncounted[name]
        )
        if name in uncounted
        else WindowEnergy.of(
            gross_joules=c.joules, net_joules=splits[name].net_j, source=c.source, reason=c.reason
        )
        for name, c in window.components.items()
    }


def trials_section(
    trials: list[Trial], idle: IdleBaseline | None, uncounted: Mapping[str, str]
) -> list[TrialRecord]:
    return [
        TrialRecord.of(
            index=trial.index,
            # On the power timeline's clock, so figures can mark the trial's window.
            start_s=trial.window.start_s,
            end_s=trial.window.end_s,
            duration_s=trial.window.duration_s,
            completion_tokens=trial.summary["total_completion_tokens"],
            # Each trial's own count: figures per query divide each trial's energy by it.
            successful_prompts=trial.summary["successful_prompts"],
            total_tokens=trial.summary["total_tokens"],  # prompt + completion (AES's)
            throughput_tokens_per_second=trial.summary["throughput_tokens_per_second"],
            completion_tokens_per_second=trial.summary["completion_tokens_per_second"],
            energy=window_energy(trial.window, idle, uncounted),
            cooldown=trial.cooldown,
            failure=trial.failure,
        )
        for trial in trials
    ]


def latency_section(trials: list[Trial]) -> Latency | None:
    """Per-request latency statistics over every trial's successful requests, and each
    trial's load figures; ``None`` for backends that do not time single requests."""
    samples = [t.extra["latency_samples"] for t in trials if "latency_samples" in t.extra]
    if not samples:
        return None
    statistics_ = {
        metric: distribution([v for s in samples for v in s[metric]]) for metric in samples[0]
    }
    return Latency.of(
        definition=LATENCY_DEFINITION,
        **{
            metric: LatencyStatistics.of(**values) if values else None
            for metric, values in statistics_.items()
        },
        requests_file=trials[0].extra.get("requests_file"),
        trials=[{"index": t.index, **t.extra["load"]} for t in trials],
    )


def steady_state_section(
    trials: list[Trial], idle: IdleBaseline | None, uncounted: Mapping[str, str]
) -> SteadyState | None:
    """Energy and tokens of each trial's steady-state window (serving backends), and the
    energy over the trials that had one; ``None`` for backends without a steady state."""
    if not any("steady_state" in t.extra for t in trials):
        return None
    names = counted_components(uncounted)
    rows, windows = [], []
    for trial in trials:
        window = trial.phase_windows.get("steady_state")
        steady = dict(trial.extra["steady_state"])
        gross = window_total(window, idle, names, "gross") if window else None
        tokens = steady["output_tokens"]
        rows.append(
            SteadyTrial.of(
                **{
                    "index": trial.index,
                    **steady,
                    "completion_tokens_per_second": tokens / steady["duration_s"]
                    if window and tokens is not None
                    else None,
                    "energy": window_energy(window, idle, uncounted) if window else None,
                    "total_gross_joules": gross,
                    "joules_per_token": gross / tokens if gross is not None and tokens else None,
                }
            )
        )
        if window:
            windows.append(window)
    energy = None
    if windows:
        energy = energy_section(windows, idle, uncounted).model_copy(
            update={"basis": STEADY_STATE_BASIS}
        )
    return SteadyState.of(
        definition=STEADY_STATE_BASIS,
        trials=rows,
        energy=energy,
        reason=None
        if windows
        else "no trial had a steady-state window: "
        + "; ".join(dict.fromkeys(r.reason for r in rows if r.reason)),
        joules_per_token=figures(
            trial_statistics([r.joules_per_token for r in rows], reasons=[r.reason for r in rows])
        ),
    )


def phases_section(trials: list[Trial], uncounted: Mapping[str, str]) -> Phases | None:
    """Prefill/decode split per trial and its mean, for backends that measure a prefill, of
    the counted components (a CPU run's meters still watch the host's GPUs)."""
    if not all("prefill" in t.phase_windows for t in trials):
        return None
    passes = [(t.extra.get("prefill_passes", 1), t.extra.get("generate_passes", 1)) for t in trials]
    per_trial = [
        split_window_phases(
            counted_window(t.phase_windows["prefill"], uncounted),
            counted_window(t.window, uncounted),
            passes=prefill,
            generate_passes=generate,
        )
        for t, (prefill, generate) in zip(trials, passes)
    ]
    mean = {
        name: PhaseMean.of(
            **{
                part: figures(
                    trial_statistics(
                        [getattr(split[name], part) for split in per_trial],
                        reasons=[split[name].reason for split in per_trial],
                    )
                )
                for part in ("prefill", "decode")
            },
            invalid_reasons=sorted({s[name].reason for s in per_trial if s[name].reason}),
        )
        for name in per_trial[0]
    }
    return Phases.of(
        definition=PHASES_DEFINITION,
        trials=[
            PhaseTrial.of(
                prefill_passes=prefill,
                generate_passes=generate,
                **{name: split.to_dict() for name, split in splits.items()},
            )
            for (prefill, generate), splits in zip(passes, per_trial)
        ],
        mean=mean,
    )


def load_section(
    window: WindowMeasurement | None,
    idle: IdleBaseline | None,
    uncounted: Mapping[str, str],
    process_start_s: float | None,
    start_reason: str | None = None,
) -> Load | None:
    """The model load's time and energy (``window``: meters open to model ready, on the
    monitor's clock; ``process_start_s``: the process's start on that clock, or ``None``
    with ``start_reason``); ``None`` for a run that measured no load."""
    if window is None:
        return None
    names = counted_components(uncounted)
    splits = window.net(idle)

    def figures_of(name: str) -> ComponentFigures:
        if name not in names:
            return unknown_component(uncounted[name])
        energy, split = window.components[name], splits[name]
        return ComponentFigures.of(
            gross_joules=energy.joules,
            idle_joules=split.idle_j,
            net_joules=split.net_j,
            net_reason=split.reason if split.net_j is None else None,
            source=energy.source,
            estimated=energy.estimated,
            reason=energy.reason,
            devices=list(energy.devices),
        )

    total = total_split(window, idle, names)
    known_start = process_start_s is not None
    return Load.of(
        definition=LOAD_DEFINITION,
        start_s=window.start_s,
        end_s=window.end_s,
        duration_s=window.end_s - process_start_s if known_start else None,
        metered_s=window.duration_s,
        before_meters_s=window.start_s - process_start_s if known_start else None,
        reason=None if known_start else start_reason,
        components={name: figures_of(name) for name in COMPONENTS},
        total=ComponentFigures.of(
            gross_joules=total.gross_j,
            idle_joules=total.idle_j,
            net_joules=total.net_j,
            net_reason=total.reason if total.net_j is None else None,
            source=None,
            estimated=any(window.components[n].estimated for n in names),
            reason=None if total.gross_j is not None else total.reason,
            components=list(names),
        ),
    )


def memory_section(
    gpu_used: dict | None, gpu_reason: str | None, framework: dict, host: PeakMemory
) -> Memory:
    """The run's peak memory: each GPU's, the framework's, the host's (meters/memory.py)."""
    return Memory.of(
        definition=MEMORY_DEFINITION,
        gpu_used_bytes=gpu_used,
        gpu_reason=gpu_reason,
        **framework,
        host_bytes=host.bytes,
        host_source=host.source,
        host_reason=host.reason,
    )


def completed_report(
    config: dict,
    trials: list,
    idle,
    uncounted: dict,
    carbon_intensity: float,
    timeline_file: str | None,
    provenance: dict,
    *,
    load: Load | None = None,
    memory: Memory | None = None,
    warm_up: WarmUp | None = None,
) -> Report:
    """The report of a run whose trials completed: ``succeeded``, or ``failed`` when a
    trial had too many failed requests (its figures are still reported); with the
    model load's, the warm-up's and the peak memory's sections where the run measured
    them."""
    failure = next((t.failure for t in trials if t.failure), None)
    energy = energy_section([t.window for t in trials], idle, uncounted)
    return Report(
        schema_version=SCHEMA_VERSION,
        model=config["model"],
        status=FAILED if failure else SUCCEEDED,
        error=RunError(type="TooManyFailedRequests", message=failure) if failure else None,
        config=config,
        summary=summary_section(trials),
        energy=energy,
        metrics=metrics_section(
            [t.summary for t in trials], energy, carbon_intensity, config.get("task")
        ),
        checks=checks_section(trials, idle, energy, uncounted),
        trials=trials_section(trials, idle, uncounted),
        phases=phases_section(trials, uncounted),
        steady_state=steady_state_section(trials, idle, uncounted),
        latency=latency_section(trials),
        idle=Idle.from_dict(idle.to_dict()) if idle else None,  # the meters' JSON form
        **({"warm_up": warm_up} if warm_up is not None else {}),  # left out where unknown
        load=load,
        memory=memory,
        timeline_file=timeline_file,
        provenance=Provenance.from_dict(provenance),
    )
