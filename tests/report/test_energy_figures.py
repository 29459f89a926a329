"""Regression tests of issue 10: figures that came out wrong or mislabelled on edge cases.

Each test feeds the report's arithmetic a synthetic trace that reproduced one wrong figure."""

import math

import pytest

from energybench.run.backends import Trial
from energybench.run.energy import (
    check_counter_vs_integral,
    check_power_range,
    check_trial_variation,
)
from energybench.run.energy import check_window_length, trial_statistics
from energybench.run.meters import ComponentEnergy, IdleBaseline, IdlePower, WindowMeasurement
from energybench.run.report_builder import checks_section, energy_section, metrics_section


def window(name, duration, gpu, cpu=10.0, ram=2.0, gpu_detail=None):
    return WindowMeasurement(
        name,
        0.0,
        duration,
        {
            "gpu": ComponentEnergy(
                "gpu",
                gpu,
                "nvml",
                devices=["gpu0"],
                detail={"resolution_j": 0.001, **(gpu_detail or {})},
            ),
            "cpu": ComponentEnergy(
                "cpu",
                cpu,
                "rapl",
                devices=["intel-rapl:0/package-0"],
                detail={"resolution_j": 1e-6},
            ),
            "ram": ComponentEnergy(
                "ram", ram, "rapl", devices=["intel-rapl:0:0/dram"], detail={"resolution_j": 1e-6}
            ),
        },
    )


def idle(gpu_w=50.0, cpu_w=2.0, ram_w=1.0):
    return IdleBaseline(
        100.0,
        {
            name: IdlePower(name, watts, "rapl", False, None, [name], {})
            for name, watts in (("gpu", gpu_w), ("cpu", cpu_w), ("ram", ram_w))
        },
    )


def summary(tokens, responses=4, duration=100.0):
    return {
        "total_prompts": responses,
        "successful_prompts": responses,
        "failed_prompts": 0,
        "total_duration_seconds": duration,
        "avg_latency_seconds": 1.0,
        "avg_time_to_first_token": 0.1,
        "total_tokens": tokens,
        "total_prompt_tokens": 0,
        "total_completion_tokens": tokens,
        "throughput_tokens_per_second": tokens / duration,
    }


# --- item 1: a component a hair below its idle must not void the total's net ------------------
def test_dram_a_hair_below_idle_leaves_the_total_net():
    # DRAM 99 J against 100 J idle (1 W x 100 s); GPU 2,900 J net over 5,000 J idle.
    energy = energy_section([window("t0", 100.0, gpu=7900.0, cpu=300.0, ram=99.0)], idle(), {})
    total = energy.total
    assert total.net_joules == pytest.approx(7900 + 300 + 99 - (5000 + 200 + 100))
    assert total.gross_joules == pytest.approx(total.idle_joules + total.net_joules)
    ram = energy.components["ram"]
    assert ram.net_joules is None  # 1 J below idle is more than RAPL can blur
    assert "by 1 J" in ram.net_reason and "drew less than while idling" in ram.net_reason
    assert "does not describe" not in ram.net_reason


def test_net_within_the_meters_resolution_of_idle_is_kept_as_measured():
    # The RAM estimate is constant: gross and idle differ only by rounding.
    watts = 6.0 * 0.1
    gross = watts * (0.1 + 0.2)  # 0.18000000000000002 vs idle 0.18 ...
    base = idle(ram_w=watts)
    energy = energy_section([window("t0", 0.3, gpu=60.0, ram=gross * (1 - 1e-12))], base, {})
    assert energy.components["ram"].net_joules == pytest.approx(0.0, abs=1e-9)
    split = window("t", 10.0, gpu=500.0).net(
        IdleBaseline(
            30.0,
            {"gpu": IdlePower("gpu", 50.2, "nvml", False, None, ["gpu0"], {}, uncertainty_w=0.5)},
        )
    )["gpu"]
    assert split.net_j == pytest.approx(-2.0)  # within 0.5 W x 10 s of the idle's spread
    assert split.uncertainty_j == pytest.approx(5.001, rel=1e-3)


# --- item 2: every mean over the same trials --------------------------------------------------
def test_a_mean_over_trials_never_drops_an_invalid_trial():
    decode = trial_statistics(
        [None, 60.0, 5.0], reasons=["below the meter's resolution", None, None]
    )
    assert decode.mean is None  # not 32.5 over the two that happened to be valid
    assert "trial 0 (below the meter's resolution)" in decode.reason


def test_gross_is_idle_plus_net_over_the_same_trials():
    trials = [
        window("t0", 100.0, gpu=4000.0),
        window("t1", 100.0, gpu=7000.0),
        window("t2", 100.0, gpu=7100.0),
    ]  # trial 0's GPU is below its 5,000 J idle
    gpu = energy_section(trials, idle(), {}).components["gpu"]
    assert gpu.gross_joules == pytest.approx(6033.333333)
    assert gpu.net_joules is None and "trial 0" in gpu.net_reason
    total = energy_section(trials, idle(), {}).total
    assert total.net_joules is None and "trial 0" in total.net_reason
    assert total.gross_joules == pytest.approx(6033.333333 + 12)
    valid = energy_section(trials[1:], idle(), {})
    for block in (valid.total, valid.components["gpu"]):
        assert block.gross_joules == pytest.approx(block.idle_joules + block.net_joules)


# --- item 3: per-token figures from each trial's own counts -----------------------------------
def test_energy_per_token_uses_each_trials_own_token_count():
    trials = [
        window("t0", 100.0, gpu=3700.0, cpu=0.0, ram=0.0),
        window("t1", 100.0, gpu=3700.0, cpu=0.0, ram=0.0),
    ]
    energy = energy_section(trials, idle(), {})
    metrics = metrics_section([summary(1000), summary(2000)], energy, 400.0)
    assert metrics.trial_statistics["joules_per_token"].values == pytest.approx([3.7, 1.85])
    assert metrics.joules_per_token == pytest.approx((3.7 + 1.85) / 2)
    assert "Student's t" in metrics.interval_method


def test_a_trial_with_no_tokens_voids_per_token_figures_not_energy():
    trials = [window("t0", 100.0, gpu=3700.0), window("t1", 100.0, gpu=3700.0)]
    energy = energy_section(trials, idle(), {})
    metrics = metrics_section([summary(1000), summary(0)], energy, 400.0)
    assert metrics.joules_per_token is None
    assert "trial 1 (no generated tokens" in metrics.null_reasons["total.j_per_token"]
    assert metrics.joules_per_response is not None and energy.total.gross_joules


# --- item 4: one meaning per check, tolerance from resolution, NaN never passes ---------------
def test_counter_vs_integral_tolerance_follows_window_length():
    # A 1 s averaged power reading lags by about 0.39 s of the load: 3.9 % over 10 s, 1.3 %
    # over 30 s. Resolution: 0.5 s of power (half the averaging period) plus 0.2 s (counter).
    power = 300.0
    for seconds, lag in ((10.0, 0.039), (30.0, 0.013)):
        counter = power * seconds
        check = check_counter_vs_integral(
            counter, counter * (1 - lag), resolution_j=power * (0.5 + 0.2)
        )
        assert check.passed, check.detail
        assert check.limit == pytest.approx(0.7 / seconds)
    off = check_counter_vs_integral(3000.0, 2700.0, resolution_j=300.0 * 0.7)
    assert off.passed is False


def test_only_one_counter_check_and_no_energy_per_token_twin():
    trials = [
        Trial(
            0,
            summary(1000),
            window(
                "t0",
                10.0,
                gpu=3000.0,
                gpu_detail={
                    "counter_j": 3000.0,
                    "integral_j": 2883.0,
                    "counter_resolution_j": 60.0,
                    "integral_resolution_j": 150.0,
                },
            ),
        )
    ]
    energy = energy_section([t.window for t in trials], idle(), {})
    names = [c.name for c in checks_section(trials, idle(), energy, {})]
    assert "energy_per_token_consistent" not in names
    assert names.count("gpu_counter_matches_power_integral") == 1
    check = next(
        c
        for c in checks_section(trials, idle(), energy, {})
        if c.name == "gpu_counter_matches_power_integral"
    )
    assert check.passed is True and check.limit == pytest.approx(0.07)


def test_an_integral_of_zero_is_a_figure_not_missing():
    check = check_counter_vs_integral(3000.0, 0.0, resolution_j=10.0)
    assert check.passed is False and check.value == 1.0


def test_nan_never_passes_a_check():
    nan = math.nan
    checks = [
        check_counter_vs_integral(nan, 100.0, resolution_j=1.0),
        check_counter_vs_integral(100.0, 100.0, resolution_j=nan),
        check_power_range(nan, 50.0, 700.0),
        check_power_range(300.0, nan, 700.0),
        check_window_length(nan),
        check_trial_variation([10.0, nan, 10.0]),
    ]
    for check in checks:
        assert check.passed is False and "not a finite number" in check.detail, check


# --- item 8: an idle baseline checked by the spread of its sub-windows ------------------------
def gpu_window(name, start, duration, joules):
    return WindowMeasurement(
        name,
        start,
        start + duration,
        {
            "gpu": ComponentEnergy(
                "gpu", joules, "nvml", devices=["gpu0"], detail={"resolution_j": 1.0}
            )
        },
    )


def test_an_unstable_idle_baseline_voids_net_with_the_cause_and_keeps_gross():
    # 20 s of "idle": 70 W, 70 W, 95 W (something ran), 70 W over four 5 s sub-windows
    subs = [gpu_window(f"s{i}", 5.0 * i, 5.0, 5.0 * w) for i, w in enumerate((70, 70, 95, 70))]
    baseline = IdleBaseline.from_window(gpu_window("idle", 0.0, 20.0, 5.0 * 305), subs)
    gpu = baseline.components["gpu"]
    assert gpu.watts is None and "idle power unstable" in gpu.reason and "70–95 W" in gpu.reason
    assert gpu.sub_window_w == pytest.approx([70.0, 70.0, 95.0, 70.0])
    trial = WindowMeasurement(
        "t0",
        0.0,
        30.0,
        {
            "gpu": ComponentEnergy(
                "gpu", 9000.0, "nvml", devices=["gpu0"], detail={"resolution_j": 6.0}
            )
        },
    )
    energy = energy_section([trial], baseline, {"cpu": "not here", "ram": "not here"})
    assert energy.components["gpu"].gross_joules == 9000.0
    assert energy.components["gpu"].net_joules is None
    assert "idle power unstable" in energy.components["gpu"].net_reason
    assert "idle power unstable" in energy.total.net_reason


def test_a_steady_idle_baseline_carries_its_spread_into_net():
    subs = [gpu_window(f"s{i}", 5.0 * i, 5.0, 5.0 * w) for i, w in enumerate((70, 71, 70.5, 70))]
    baseline = IdleBaseline.from_window(gpu_window("idle", 0.0, 20.0, 5.0 * 281.5), subs)
    assert baseline.components["gpu"].watts == pytest.approx(70.375)
    assert baseline.components["gpu"].uncertainty_w == pytest.approx(1.0)


def test_a_sub_window_lost_to_a_sampler_gap_does_not_skip_the_stability_check():
    # 50, ?, 80, 20 W: the three measured sub-windows alone show the baseline unstable
    subs = [
        gpu_window(f"s{i}", 5.0 * i, 5.0, None if w is None else 5.0 * w)
        for i, w in enumerate((50, None, 80, 20))
    ]
    subs[1].components["gpu"].reason = "power samples leave a 3 s gap"
    gpu = IdleBaseline.from_window(gpu_window("idle", 0.0, 20.0, 1000.0), subs).components["gpu"]
    assert gpu.watts is None and "idle power unstable" in gpu.reason
    assert gpu.uncertainty_w == pytest.approx(60.0)
    # Steady where measured: kept, and the reason says what could not be checked.
    subs = [
        gpu_window(f"s{i}", 5.0 * i, 5.0, None if w is None else 5.0 * w)
        for i, w in enumerate((70, None, 70.5, 70))
    ]
    subs[1].components["gpu"].reason = "power samples leave a 3 s gap"
    gpu = IdleBaseline.from_window(gpu_window("idle", 0.0, 20.0, 1405.0), subs).components["gpu"]
    assert gpu.watts == pytest.approx(70.25) and gpu.uncertainty_w == pytest.approx(0.5)
    assert "checked on 3 of 4 sub-windows" in gpu.reason and "3 s gap" in gpu.reason


# --- bad input: a meter that fails mid-run ---------------------------------------------------
def test_a_meter_failing_in_one_trial_voids_its_figures_and_keeps_the_others():
    lost = window("t1", 100.0, gpu=None)
    lost.components["gpu"].reason = "gpu0: energy counter read failed: GPU is lost"
    trials = [window("t0", 100.0, gpu=7000.0), lost, window("t2", 100.0, gpu=7100.0)]
    energy = energy_section(trials, idle(), {})
    gpu = energy.components["gpu"]
    assert gpu.gross_joules is None and "GPU is lost" in gpu.reason
    assert "trial 1" in gpu.trial_statistics["gross"].reason
    assert energy.total.gross_joules is None and "GPU is lost" in energy.total.reason
    assert energy.components["cpu"].gross_joules == pytest.approx(10.0)
    assert energy.components["ram"].gross_joules == pytest.approx(2.0)
