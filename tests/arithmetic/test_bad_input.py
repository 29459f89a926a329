"""Inputs that once gave a figure that looked valid, or a check that misfired (issue 22): each
must give null with a reason, or a check that says what it saw."""

import math

import pytest

from energybench.run.energy import (
    counter_delta,
    efficiency_figures,
    split_phases,
    subtract_idle,
    trial_statistics,
)
from energybench.run.meters.measurement import (
    ComponentEnergy,
    IdleBaseline,
    IdlePower,
    WindowMeasurement,
)

RAPL_RANGE_UJ = 262_143_328_850
ONE_KW_IN_UJ_PER_S = 1e9


def test_a_dram_domain_a_hair_below_idle_passes_its_range_check():
    """99.99 J over 10 s against 10 W idle, resolved to 0.02 J: net is -0.01 J, a measurement
    of nothing dynamic, which the range check must accept as the net figure does."""
    ram = ComponentEnergy("ram", 99.99, "rapl", detail={"resolution_j": 0.02})
    window = WindowMeasurement("w", 0.0, 10.0, {"ram": ram})
    idle = IdleBaseline(20.0, {"ram": IdlePower("ram", 10.0, "rapl", False, None, [], {}, 0.0)})
    assert window.net(idle)["ram"].net_j == pytest.approx(-0.01)
    (check,) = [c for c in window.checks(idle) if c.name == "ram_power_in_range"]
    assert check.passed is True, check.detail


def test_a_component_well_below_idle_still_fails_its_range_check():
    ram = ComponentEnergy("ram", 90.0, "rapl", detail={"resolution_j": 0.02})
    window = WindowMeasurement("w", 0.0, 10.0, {"ram": ram})
    idle = IdleBaseline(20.0, {"ram": IdlePower("ram", 10.0, "rapl", False, None, [], {}, 0.0)})
    (check,) = [c for c in window.checks(idle) if c.name == "ram_power_in_range"]
    assert check.passed is False and "below the idle power" in check.detail


def test_a_reset_after_a_gap_that_would_allow_a_wrap_is_not_taken_for_one():
    # 100 kJ to 1 J after 200 s: a wrap would be 162 kJ at 810 W, plausible, but a reset at any
    # time in those 200 s reads the same. The poller reads every 0.1 s; 1 s is a stall.
    result = counter_delta(
        100_000e6,
        1e6,
        max_range=RAPL_RANGE_UJ,
        elapsed_s=200.0,
        max_plausible_rate=ONE_KW_IN_UJ_PER_S,
        max_gap_s=1.0,
    )
    assert result.delta is None and "cannot be told from a wrap" in result.reason


def test_a_wrap_between_two_polls_is_still_a_wrap():
    result = counter_delta(
        RAPL_RANGE_UJ - 10e6,
        20e6,
        max_range=RAPL_RANGE_UJ,
        elapsed_s=0.1,
        max_plausible_rate=ONE_KW_IN_UJ_PER_S,
        max_gap_s=1.0,
    )
    assert result.wrapped and result.delta == pytest.approx(30e6)


@pytest.mark.parametrize("start, end", [(5, math.inf), (math.nan, 5), (5, -math.inf)])
def test_counter_readings_that_are_not_numbers(start, end):
    result = counter_delta(start, end)
    assert result.delta is None and "not a finite number" in result.reason


def test_a_nan_prefill_gives_no_decode():
    split = split_phases(math.nan, 100.0)
    assert split.decode is None and split.prefill is None
    assert "not a finite number" in split.reason


def test_nan_energy_gives_no_efficiency_figure_and_says_why():
    figures = efficiency_figures(math.nan, tokens=10, responses=2, carbon_intensity_g_per_kwh=400)
    for name in ("energy_j", "energy_wh", "j_per_token", "tokens_per_joule", "co2_g"):
        assert figures[name] is None
        assert "not a finite number" in figures["reasons"][name]


def test_an_infinite_gross_figure_gives_no_net_and_says_why():
    net = subtract_idle(math.inf, 10.0, 5.0)
    assert (net.gross_j, net.idle_j, net.net_j) == (None, None, None)
    assert "not a finite number" in net.reason


def test_a_nan_trial_is_named_and_not_passed_on():
    summary = trial_statistics([1.0, math.nan, 2.0])
    assert summary.values == [1.0, None, 2.0]
    assert summary.mean is None and "trial 1" in summary.reason and "nan" in summary.reason


def test_phases_per_unit_are_unknown_without_energy_or_counts_never_a_division_by_zero():
    from energybench.run.energy.phases import phases_per_unit

    figures = phases_per_unit(
        2.0, None, passes=2, queries=0, prompt_tokens=None, generated_tokens=10
    )
    assert figures == {
        "prefill_j_per_query": None,
        "decode_j_per_query": None,
        "prefill_j_per_prompt_token": None,
        "decode_j_per_generated_token": None,
    }
    assert (
        phases_per_unit(2.0, 3.0, passes=2, queries=4, prompt_tokens=8, generated_tokens=12)[
            "decode_j_per_generated_token"
        ]
        == 0.5
    )
