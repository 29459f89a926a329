"""How trials become the report's energy, metrics and checks (energybench.run.report_builder)."""

import ast
import dataclasses

import pytest
from conftest import REPO_ROOT

from energybench.run.backends import RUN_USED_NO_GPU, Trial
from energybench.run.distribution import distribution
from energybench.run.meters import ComponentEnergy, IdleBaseline, IdlePower, WindowMeasurement
from energybench.run.report_builder import (
    checks_section,
    energy_section,
    metrics_section,
    phases_section,
    steady_state_section,
    summary_section,
)


def window(name, duration, gpu=None, cpu=10.0, ram=2.0, start=0.0, gpu_reason=None):
    return WindowMeasurement(
        name,
        start,
        start + duration,
        {
            "gpu": ComponentEnergy(
                "gpu",
                gpu,
                "nvml" if gpu is not None else None,
                reason=gpu_reason,
                devices=["gpu0"],
                detail={"resolution_j": 0.001},
            ),
            "cpu": ComponentEnergy(
                "cpu", cpu, "rapl", devices=["package-0"], detail={"resolution_j": 1e-6}
            ),
            "ram": ComponentEnergy(
                "ram",
                ram,
                "estimate",
                estimated=True,
                reason="no RAPL dram",
                devices=["ram-estimate"],
            ),
        },
    )


def windows(trials):
    return [t.window for t in trials]


IDLE = IdleBaseline(
    10.0,
    {
        "gpu": IdlePower("gpu", 50.0, "nvml", False, None, ["gpu0"], {}),
        "cpu": IdlePower("cpu", 2.0, "rapl", False, None, ["package-0"], {}),
        "ram": IdlePower("ram", 1.0, "estimate", True, "no RAPL dram", ["ram-estimate"], {}),
    },
)


def trial(index, gpu, duration=2.0, tokens=100, prefill_gpu=None):
    summary = {
        "total_prompts": 4,
        "successful_prompts": 4,
        "failed_prompts": 0,
        "total_duration_seconds": duration,
        "avg_latency_seconds": duration / 2,
        "avg_time_to_first_token": 0.1,
        "total_tokens": tokens + 40,
        "total_prompt_tokens": 40,
        "total_completion_tokens": tokens,
        "throughput_tokens_per_second": tokens / duration,
    }
    phases = {} if prefill_gpu is None else {"prefill": window("p", 0.5, gpu=prefill_gpu)}
    return Trial(index, summary, window(f"t{index}", duration, gpu=gpu), phases)


def test_gross_idle_net_and_confidence_interval_over_trials():
    trials = [trial(0, 300.0), trial(1, 310.0), trial(2, 290.0)]
    energy = energy_section(windows(trials), IDLE, {})
    gpu = energy.gpu
    assert gpu.gross_joules == pytest.approx(300.0)
    assert gpu.idle_joules == pytest.approx(100.0)  # 50 W x 2 s
    assert gpu.net_joules == pytest.approx(200.0)
    stats = gpu.gross
    assert stats.ci_low < 300.0 < stats.ci_high and stats.std == pytest.approx(10.0)
    assert energy.total.gross_joules == pytest.approx(312.0)  # + 10 J cpu + 2 J ram
    assert energy.total.estimated is True  # ram is an estimate
    assert energy.gpu_energy_wh == pytest.approx(300.0 / 3600)


def test_cpu_run_does_not_count_the_gpu():
    energy = energy_section(windows([trial(0, 300.0)]), IDLE, {"gpu": RUN_USED_NO_GPU})
    assert energy.gpu.gross_joules is None
    assert "used no GPU" in energy.gpu.reason
    assert energy.total.gross_joules == pytest.approx(12.0)


def test_a_run_that_counts_no_component_has_no_total_and_says_why():
    reason = "external endpoint: its hardware is not metered here"
    trials = [trial(0, 300.0)]
    uncounted = dict.fromkeys(("gpu", "cpu", "ram"), reason)
    energy = energy_section(windows(trials), IDLE, uncounted)
    for block in [*energy.components.values(), energy.total]:
        assert block.gross_joules is None and block.reason == reason  # never 0
    assert energy.total_energy_wh is None and energy.total.components == []
    metrics = metrics_section([trials[0].summary], energy, 400.0)
    assert metrics.joules_per_token is None and metrics.null_reasons["total.j_per_token"]
    checks = checks_section(trials, IDLE, energy, uncounted)
    assert not any(c.name.endswith("_power_in_range") for c in checks)


def test_unreadable_gpu_makes_the_total_unknown_not_smaller():
    trials = [
        Trial(
            0, trial(0, None).summary, window("t0", 2.0, gpu=None, gpu_reason="NVML: device lost")
        )
    ]
    energy = energy_section(windows(trials), IDLE, {})
    assert energy.gpu.reason == "NVML: device lost"
    assert energy.total.gross_joules is None and "gpu" in energy.total.reason
    metrics = metrics_section([trials[0].summary], energy, 400.0)
    assert (
        metrics.joules_per_token is None
        and "NVML: device lost" in metrics.null_reasons["total.j_per_token"]
    )


def test_net_below_idle_is_null_with_reason():
    energy = energy_section(windows([trial(0, 50.0)]), IDLE, {})  # idle alone is 100 J
    gpu = energy.gpu
    assert gpu.gross_joules == pytest.approx(50.0)
    assert gpu.net_joules is None and "idle" in gpu.net_reason


def test_metrics_and_checks():
    trials = [trial(0, 300.0), trial(1, 300.0)]
    energy = energy_section(windows(trials), IDLE, {})
    metrics = metrics_section([t.summary for t in trials], energy, 400.0)
    assert metrics.joules_per_token == pytest.approx(312.0 / 100)
    assert metrics.wh_per_1000_queries == pytest.approx(300.0 / 3600 / 4 * 1000)
    assert metrics.co2_emissions_g == pytest.approx(312.0 / 3.6e6 * 400)
    checks = {c.name: c for c in checks_section(trials, IDLE, energy, {})}
    assert checks["window_long_enough"].passed is False  # 2 s < 5 s: flagged, not hidden
    assert checks["trials_consistent"].passed is True


def test_decode_below_prefill_is_invalid_not_negative():
    phases = phases_section(
        [trial(0, 300.0, prefill_gpu=100.0), trial(1, 90.0, prefill_gpu=100.0)], {}
    )
    decode = phases.mean["gpu"].decode
    assert decode.values[0] == pytest.approx(200.0) and decode.values[1] is None
    assert any("negative" in r or "below" in r for r in phases.mean["gpu"].invalid_reasons)


def test_pytorch_summary_has_aes_latency_only_when_prompts_ran_alone():
    from energybench.run.backends.pytorch import BatchTiming, window_summary

    def batch(prompts):
        return BatchTiming(
            prompts=prompts,
            latency_s=2.0,
            time_to_first_token_s=0.5,
            prompt_tokens=10 * prompts,
            completion_tokens=4 * prompts,
        )

    alone = window_summary([batch(1), batch(1)], duration_s=4.0)
    assert alone["avg_latency_seconds"] == alone["avg_served_latency_seconds"] == 2.0
    assert alone["avg_time_to_first_token"] == 0.5
    assert alone["throughput_tokens_per_second"] == 28 / 4.0  # AES: prompt + completion tokens
    assert alone["completion_tokens_per_second"] == 8 / 4.0
    batched = window_summary([batch(4)], duration_s=2.0)
    assert batched["avg_latency_seconds"] is None and batched["avg_time_to_first_token"] is None
    assert batched["avg_served_latency_seconds"] == 2.0


def test_distribution_of_latencies():
    stats = distribution([1.0, 2.0, 3.0, 4.0])
    assert stats == {
        "count": 4,
        "mean": 2.5,
        "median": 2.5,
        "p90": pytest.approx(3.7),
        "p99": pytest.approx(3.97),
    }
    assert distribution([]) is None


def test_the_report_layer_depends_on_no_backend():
    """The report and the tables read the backends' common interface (`energybench.run.backends`),
    never one backend's package: a figure both need lives in a shared module."""
    source = REPO_ROOT / "src/energybench"
    paths = [
        source / "run/report_builder.py",
        source / "run/report.py",
        *sorted((source / "publish/paper").rglob("*.py")),
    ]
    for path in paths:
        tree = ast.parse(path.read_text())
        imported = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        ]
        imported += [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        backend_packages = [m for m in imported if m.startswith("energybench.run.backends.")]
        assert not backend_packages, f"{path.relative_to(REPO_ROOT)} imports {backend_packages}"


def test_a_timing_unknown_in_one_trial_is_unknown_not_the_other_trials_mean():
    first, second = trial(0, 300.0), trial(1, 300.0, duration=4.0)
    first.summary["avg_time_to_first_token"] = None  # e.g. no request of trial 0 succeeded
    summary = summary_section([first, second]).to_dict()
    assert summary["avg_time_to_first_token"] is None  # not trial 1's 0.1 s
    assert summary["total_duration_seconds"] == 3.0


def test_a_component_estimated_or_integrated_in_one_trial_is_labelled_so_over_the_trials():
    """Trial 0 read RAPL and the NVML counter; trial 1 estimated the CPU and integrated the
    GPU's power (its counter did not move). The figures over both trials are not 'rapl' and
    'nvml' with no reason: they are labelled by the weaker trial, the estimate model listed."""

    def metered(name, fallback):
        return WindowMeasurement(
            name,
            0.0,
            10.0,
            {
                "gpu": ComponentEnergy(
                    "gpu",
                    3000.0,
                    "nvml_power_integral" if fallback else "nvml",
                    reason="gpu0: counter did not move" if fallback else None,
                    devices=["gpu0"],
                    detail={"resolution_j": 1.0},
                ),
                "cpu": ComponentEnergy(
                    "cpu",
                    100.0,
                    "estimate" if fallback else "rapl",
                    estimated=fallback,
                    reason="no RAPL" if fallback else None,
                    devices=["cpu-estimate" if fallback else "package-0"],
                    detail={"model": "cpu-time"} if fallback else {},
                ),
                "ram": ComponentEnergy("ram", 20.0, "rapl", devices=["dram"]),
            },
        )

    energy = energy_section([metered("t0", False), metered("t1", True)], IDLE, {}).to_dict()
    gpu, cpu = energy["components"]["gpu"], energy["components"]["cpu"]
    assert (gpu["source"], gpu["reason"]) == ("nvml_power_integral", "gpu0: counter did not move")
    assert (cpu["source"], cpu["estimated"], cpu["reason"]) == ("estimate", True, "no RAPL")
    assert "sources differ across trials: estimate, rapl" in cpu["notes"]
    assert energy["methods"]["estimates"]["cpu"]["model"] == "cpu-time"


def test_a_cpu_run_splits_no_gpu_phases_from_the_host_gpu_its_meters_watched():
    phases = phases_section(
        [trial(0, 300.0, prefill_gpu=100.0)], {"gpu": RUN_USED_NO_GPU}
    ).to_dict()
    assert "gpu" not in phases["mean"] and "gpu" not in phases["trials"][0]
    assert set(phases["mean"]) == {"cpu", "ram", "latency"}


def test_steady_state_energy_per_token_says_why_a_trial_had_none():
    full = dataclasses.replace(
        trial(0, 300.0),
        extra={
            "steady_state": {
                "start_s": 0.0,
                "end_s": 2.0,
                "duration_s": 2.0,
                "output_tokens": 90,
                "reason": None,
            }
        },
        phase_windows={"steady_state": window("s0", 2.0, gpu=100.0)},
    )
    never = dataclasses.replace(
        trial(1, 300.0),
        extra={
            "steady_state": {
                "start_s": None,
                "end_s": None,
                "duration_s": None,
                "output_tokens": None,
                "reason": "never 2 requests decoding at once",
            }
        },
    )
    per_token = steady_state_section([full, never], IDLE, {}).to_dict()["joules_per_token"]
    assert per_token["mean"] is None
    assert "trial 1 (never 2 requests decoding at once)" in per_token["reason"]
