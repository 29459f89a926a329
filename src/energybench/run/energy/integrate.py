"""Energy from a sampled power timeline by the trapezoidal rule.

Used when a device has no energy counter (or its counter did not move), to cross-check the
counter, and for sub-windows chosen after the fact (e.g. vLLM's steady-state window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


def _readings(
    times_s: Sequence[float], values: Sequence[float | None]
) -> tuple[np.ndarray, np.ndarray]:
    """The readings that have a value (``None``: the device gave none), in time order."""
    pairs = sorted((t, v) for t, v in zip(times_s, values, strict=True) if v is not None)
    return (
        np.array([p[0] for p in pairs], dtype=float),
        np.array([p[1] for p in pairs], dtype=float),
    )


def _around(t: np.ndarray, t0: float, t1: float) -> slice:
    """The readings inside [t0, t1] plus the nearest one on each side, which interpolate the
    edges."""
    first = max(int(np.searchsorted(t, t0, side="right")) - 1, 0)
    last = min(int(np.searchsorted(t, t1, side="left")), len(t) - 1)
    return slice(first, last + 1)


@dataclass(frozen=True)
class PowerIntegral:
    """Energy over [t0, t1] from power samples, or ``None`` with the reason."""

    joules: float | None
    samples: int
    max_gap_s: float | None
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def integrate_power(
    times_s: Sequence[float],
    watts: Sequence[float | None],
    t0: float,
    t1: float,
    *,
    max_gap_s: float = 1.0,
) -> PowerIntegral:
    """Integrate power (W) sampled at ``times_s`` over [t0, t1], giving joules.

    Power at t0 and t1 is interpolated linearly between the neighbouring samples, never
    extrapolated: the integral needs a reading at or before t0 and one at or after t1, so a
    device lost before the window's end (its last readings refused) makes it invalid, not a
    window carried flat from its last reading. Samples with no reading (``None``) are
    dropped. The result is invalid when the samples leave a gap longer than ``max_gap_s``
    anywhere in the window, because the power there is unknown: a device that stopped
    answering mid-window makes the integral invalid rather than small. A NaN, infinite or
    negative sample makes it invalid too, naming the sample.
    """
    if not t1 > t0:
        return PowerIntegral(None, 0, None, f"empty window: end {t1} is not after start {t0}")
    t, w = _readings(times_s, watts)
    if not len(t):
        return PowerIntegral(None, 0, None, "no power samples")
    if t[0] > t0 or t[-1] < t1:
        return PowerIntegral(
            None,
            0,
            None,
            f"no power reading at or before the window's start {t0:.3f} s or at or after its "
            f"end {t1:.3f} s (readings span {t[0]:.3f}-{t[-1]:.3f} s): the power at the edge "
            "is unknown, leaving a gap (the device stopped answering, or was not yet read)",
        )

    used = _around(t, t0, t1)
    used_t, used_w = t[used], w[used]
    bad = ~(np.isfinite(used_w) & (used_w >= 0))
    if bad.any():
        shown = ", ".join(f"{v} W at {at:.3f} s" for at, v in zip(used_t[bad][:3], used_w[bad][:3]))
        return PowerIntegral(
            None,
            0,
            None,
            f"{int(bad.sum())} power sample(s) in the window are not a non-negative number "
            f"({shown}): the meter returned garbage",
        )
    widest_gap = float(np.max(np.diff(used_t))) if len(used_t) > 1 else 0.0
    inside = int(np.count_nonzero((t >= t0) & (t <= t1)))
    if widest_gap > max_gap_s:
        return PowerIntegral(
            None,
            inside,
            widest_gap,
            f"power samples leave a {widest_gap:.3f} s gap in the window, over the "
            f"{max_gap_s:g} s allowed (sampling stalled or the device stopped answering)",
        )

    mask = (t > t0) & (t < t1)
    grid = np.concatenate(([t0], t[mask], [t1]))
    power = np.interp(grid, t, w)
    with np.errstate(over="ignore"):
        return _finite(PowerIntegral(float(np.trapezoid(power, grid)), inside, widest_gap))


def _finite(integral: PowerIntegral) -> PowerIntegral:
    """The integral, or ``None`` with the reason where finite readings overflowed it."""
    if integral.joules is None or np.isfinite(integral.joules):
        return integral
    return PowerIntegral(
        None,
        integral.samples,
        integral.max_gap_s,
        f"the readings' integral overflowed ({integral.joules} J)",
    )


def energy_from_totals(
    times_s: Sequence[float],
    totals_j: Sequence[float | None],
    t0: float,
    t1: float,
    *,
    max_gap_s: float = 1.0,
) -> PowerIntegral:
    """Energy over [t0, t1] from an energy counter's running totals (joules) read at
    ``times_s``: the total at each edge interpolated linearly between the readings around it,
    which is exact while power is constant between two readings. This is how a window chosen
    after the fact is measured with a counter (NVML, RAPL) rather than by integrating power
    samples (which, for RAPL, are interval averages, not instantaneous readings).

    Invalid when no reading lies at or before ``t0`` and at or after ``t1``, when the readings
    around the window leave a gap over ``max_gap_s``, or when the totals go backwards (the
    counter was reset) or are not numbers."""
    if not t1 > t0:
        return PowerIntegral(None, 0, None, f"empty window: end {t1} is not after start {t0}")
    t, e = _readings(times_s, totals_j)
    if not len(t) or t[0] > t0 or t[-1] < t1:
        return PowerIntegral(
            None,
            0,
            None,
            f"counter readings leave a gap at the window's edge "
            f"(none at or before {t0:.3f} s, or at or after {t1:.3f} s)",
        )
    used = _around(t, t0, t1)
    used_t, used_e = t[used], e[used]
    inside = int(np.count_nonzero((t >= t0) & (t <= t1)))
    if not np.isfinite(used_e).all() or (np.diff(used_e) < 0).any():
        return PowerIntegral(
            None,
            inside,
            None,
            "counter totals went backwards or are not numbers "
            "within the window (the counter was reset)",
        )
    widest = float(np.max(np.diff(used_t))) if len(used_t) > 1 else 0.0
    if widest > max_gap_s:
        return PowerIntegral(
            None,
            inside,
            widest,
            f"counter readings leave a {widest:.3f} s gap, over the {max_gap_s:g} s allowed",
        )
    with np.errstate(over="ignore", invalid="ignore"):
        joules = float(np.interp(t1, used_t, used_e) - np.interp(t0, used_t, used_e))
    return _finite(PowerIntegral(joules, inside, widest))


def sampled_change_j(
    times_s: Sequence[float], watts: Sequence[float | None], t0: float, t1: float
) -> float | None:
    """What the linear interpolation of sampled power may miss over [t0, t1]: the sum over
    the sample intervals that cover the window (the one around each edge included) of the
    power's change across the interval × its length. Power that stays put between samples
    (a model's input read at every sample) is resolved exactly; ``None`` without readings
    around both edges, or with readings that are not finite."""
    t, w = _readings(times_s, watts)
    if not len(t) or t[0] > t0 or t[-1] < t1 or not np.isfinite(w).all():
        return None
    used = _around(t, t0, t1)
    used_t, used_w = t[used], w[used]
    change = float(np.sum(np.abs(np.diff(used_w)) * np.diff(used_t)))
    return change if np.isfinite(change) else None
