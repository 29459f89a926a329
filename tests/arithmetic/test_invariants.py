"""Invariants of the energy arithmetic over random inputs (seeded numpy cases; hypothesis is not
in the pinned environment): random windows, readings, gaps, counter resets, NaN and infinity,
and meters that gave nothing.

- no NaN or infinity ever leaves the arithmetic;
- gross = idle + net wherever all three are known;
- a null always has a reason;
- a check passes within the reading's stated resolution.
"""

import math
import zlib

import numpy as np
import pytest

from energybench.run.energy import (
    check_power_range,
    counter_delta,
    efficiency_figures,
    energy_from_totals,
    integrate_power,
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

CASES = 400
GARBAGE = [math.nan, math.inf, -math.inf, -1.0, 1e308, None]


def reading(rng, scale=100.0, garbage=0.15, *, unknown=True):
    """A meter's reading: mostly a plausible number, sometimes garbage or (where ``unknown``)
    nothing."""
    if rng.random() < garbage:
        choices = GARBAGE if unknown else GARBAGE[:-1]
        return choices[rng.integers(len(choices))]
    return float(rng.exponential(scale))


def assert_finite(*values):
    for value in values:
        assert value is None or math.isfinite(value), values


def assert_reasoned(value, reason):
    assert value is not None or reason, "a null without a reason"


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def test_counter_deltas(rng):
    for _ in range(CASES):
        max_range = rng.choice([None, 262_143_328_850.0, 200e6])
        start, end = reading(rng, 1e9, unknown=False), reading(rng, 1e9, unknown=False)
        if max_range is not None and rng.random() < 0.3:  # a reset: back near zero
            end = float(rng.uniform(0, 1e6))
        result = counter_delta(
            start,
            end,
            max_range=max_range,
            elapsed_s=reading(rng, 1.0, 0.05),
            max_plausible_rate=rng.choice([None, 1e9]),
            max_gap_s=rng.choice([None, 1.0]),
        )
        assert_finite(result.delta)
        assert_reasoned(result.delta, result.reason)
        assert result.delta is None or result.delta >= 0


def random_series(rng, n, *, totals=False):
    times = np.sort(rng.uniform(0, 10, n))
    if totals:
        steps = [reading(rng, 50.0, 0.05) for _ in range(n)]
        values, running = [], 0.0
        for step in steps:
            if step is None or not math.isfinite(step) or rng.random() < 0.05:
                values.append(step if step is None or not math.isfinite(step) else 0.0)
                running = 0.0 if step is not None and math.isfinite(step) else running
                continue
            running += step
            values.append(running)
        return list(times), values
    return list(times), [reading(rng, 300.0, 0.05) for _ in range(n)]


@pytest.mark.parametrize("integral", [integrate_power, energy_from_totals])
def test_integrals_over_random_windows(rng, integral):
    for _ in range(CASES):
        n = int(rng.integers(0, 40))
        times, values = random_series(rng, n, totals=integral is energy_from_totals)
        t0 = float(rng.uniform(-1, 11))
        t1 = t0 + float(rng.choice([rng.uniform(-0.1, 0.01), rng.uniform(0, 5)]))
        result = integral(times, values, t0, t1, max_gap_s=float(rng.choice([0.5, 1.0, 5.0])))
        assert_finite(result.joules, result.max_gap_s)
        assert_reasoned(result.joules, result.reason)
        assert result.joules is None or result.joules >= -1e-9


def test_idle_subtraction(rng):
    for _ in range(CASES):
        gross, idle_w = reading(rng, 1000.0), reading(rng, 50.0)
        duration = float(rng.choice([rng.exponential(10.0), 0.0, math.nan, math.inf]))
        resolution = reading(rng, 1.0, 0.05) or 0.0
        net = subtract_idle(
            gross,
            idle_w,
            duration,
            resolution_j=resolution,
            idle_uncertainty_w=float(rng.exponential(0.5)),
        )
        assert_finite(
            net.gross_j, net.idle_j, net.net_j, net.idle_w, net.duration_s, net.uncertainty_j
        )
        assert_reasoned(net.net_j, net.reason)
        if None not in (net.gross_j, net.idle_j, net.net_j):
            assert net.gross_j == pytest.approx(net.idle_j + net.net_j)
            assert net.net_j >= -net.uncertainty_j


def test_phase_splits(rng):
    for _ in range(CASES):
        split = split_phases(reading(rng), reading(rng), resolution=reading(rng, 1.0, 0.1) or 0.0)
        assert_finite(split.prefill, split.generate, split.decode, split.resolution)
        assert_reasoned(split.decode, split.reason)
        if split.decode is not None:
            assert split.decode >= split.resolution


def test_efficiency_figures(rng):
    names = (
        "energy_j",
        "energy_wh",
        "energy_kwh",
        "j_per_token",
        "j_per_response",
        "wh_per_1000_queries",
        "tokens_per_joule",
        "co2_g",
    )
    for _ in range(CASES):
        energy = reading(rng, 1000.0)
        figures = efficiency_figures(
            energy,
            tokens=int(rng.integers(0, 3)) * 100,
            responses=int(rng.integers(0, 3)),
            carbon_intensity_g_per_kwh=reading(rng, 400.0, 0.1),
        )
        assert_finite(*(figures[n] for n in names))
        for name in names:
            if figures[name] is None and energy is not None:  # a None energy is the caller's
                assert figures["reasons"].get(name), name


def test_trial_statistics(rng):
    for _ in range(CASES // 4):
        values = [reading(rng, 100.0, 0.1) for _ in range(int(rng.integers(0, 6)))]
        summary = trial_statistics(values)
        assert_finite(
            *summary.values, summary.mean, summary.std, summary.cv, summary.ci_low, summary.ci_high
        )
        assert_reasoned(summary.mean, summary.reason)


def test_power_range_passes_within_the_allowance(rng):
    for _ in range(CASES):
        idle, allowance = float(rng.exponential(50.0)), float(rng.exponential(1.0))
        inside = idle - allowance * float(rng.uniform(0, 1))
        assert check_power_range(inside, idle, None, allowance_w=allowance).passed is True
        below = idle - allowance * float(rng.uniform(1.001, 10)) - 1e-9
        assert check_power_range(below, idle, None, allowance_w=allowance).passed is False
        bad = check_power_range(reading(rng, 50.0, 0.5), reading(rng, 50.0, 0.5), 700.0)
        assert_finite(bad.value)
        assert bad.passed is not True or (bad.value is not None and math.isfinite(bad.value))


def random_component(rng, name):
    if rng.random() < 0.2:  # a meter that gave nothing
        return ComponentEnergy(name, None, None, reason="unavailable: no such meter here")
    return ComponentEnergy(
        name,
        float(rng.exponential(500.0)),
        "rapl",
        detail={"resolution_j": float(rng.exponential(0.5))},
    )


def test_windows_against_random_baselines(rng):
    for _ in range(CASES // 4):
        duration = float(rng.exponential(10.0)) + 1e-3
        components = {c: random_component(rng, c) for c in ("gpu", "cpu", "ram")}
        window = WindowMeasurement("w", 0.0, duration, components)
        idle = IdleBaseline(
            10.0,
            {
                c: IdlePower(
                    c,
                    reading(rng, 50.0, 0.1),
                    "rapl",
                    False,
                    "no baseline",
                    [],
                    {},
                    float(rng.exponential(0.1)),
                )
                for c in components
            },
        )
        for net in window.net(idle).values():
            assert_finite(net.gross_j, net.idle_j, net.net_j, net.uncertainty_j)
            assert_reasoned(net.net_j, net.reason)
            if None not in (net.gross_j, net.idle_j, net.net_j):
                assert net.gross_j == pytest.approx(net.idle_j + net.net_j)
        for check in window.checks(idle):
            assert_finite(check.value if isinstance(check.value, float) else None)
            if check.name.endswith("power_in_range") and check.passed is False:
                net = window.net(idle)[check.name.split("_")[0]]
                # it failed: net lies further below zero than the stated uncertainty allows
                assert net.net_j is None
