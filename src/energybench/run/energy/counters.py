"""Differences of monotonically increasing energy counters (NVML mJ, RAPL µJ).

A counter may wrap around at a known range (RAPL's ``max_energy_range_uj``). A counter that
reads lower at the end than at the start is either such a wrap or a reset (driver reload,
device replaced); a reset must never be turned into a plausible-looking number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CounterDelta:
    """The increase of a counter between two readings, or ``None`` with the reason."""

    delta: float | None
    wrapped: bool = False
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.delta is not None

    def to_dict(self) -> dict:
        return asdict(self)


def counter_delta(
    start: float,
    end: float,
    *,
    max_range: float | None = None,
    elapsed_s: float | None = None,
    max_plausible_rate: float | None = None,
    max_gap_s: float | None = None,
) -> CounterDelta:
    """Increase of a counter from ``start`` to ``end`` (same unit as the readings).

    ``max_range`` is the value at which the counter wraps to zero (``None``: it never wraps,
    e.g. NVML's 64-bit counter). A backwards reading is accepted as one wrap only if the
    energy it implies is plausible: at most ``max_plausible_rate`` (counter units per second)
    over ``elapsed_s``, and only when the readings are at most ``max_gap_s`` apart: a reset
    leaves the counter at what it counted since, so after a longer gap (a stalled poller) a
    reset reads like a plausible wrap as often as not. One wrap adds ``max_range``; the
    counter's true modulus is one raw quantum larger, an error below the counter's
    resolution. When ``elapsed_s`` is long enough for a whole range at that rate, any reading
    is ambiguous (a reset, a wrap, or a wrap unseen) and the delta is ``None`` with that
    reason. A reading that is not a finite number gives ``None``, naming it.
    """
    readings = {
        "start": start,
        "end": end,
        "range": max_range,
        "elapsed": elapsed_s,
        "rate": max_plausible_rate,
        "max gap": max_gap_s,
    }
    bad = {k: v for k, v in readings.items() if v is not None and not math.isfinite(v)}
    if bad:
        return CounterDelta(
            None, reason="not a finite number: " + ", ".join(f"{k} = {v}" for k, v in bad.items())
        )
    if (
        max_range is not None
        and elapsed_s is not None
        and max_plausible_rate is not None
        and max_plausible_rate * elapsed_s >= max_range
    ):
        return CounterDelta(
            None,
            reason=(
                f"{elapsed_s:g} s between readings: at up to {max_plausible_rate:g} units/s the "
                f"counter (range {max_range:g}) may have wrapped unseen, so neither a wrap nor a "
                "reset can be told from the readings (the poller stalled)"
            ),
        )
    if end >= start:
        return CounterDelta(end - start)
    if max_range is None:
        return CounterDelta(
            None,
            reason=(
                f"counter went backwards from {start} to {end} and cannot wrap around "
                "(was the driver reloaded or the device reset?)"
            ),
        )
    if not (0 <= start <= max_range and 0 <= end <= max_range):
        return CounterDelta(
            None,
            reason=f"counter readings {start} and {end} lie outside its range 0..{max_range}",
        )
    wrapped = end + max_range - start
    if elapsed_s is not None and max_plausible_rate is not None:
        ceiling = max_plausible_rate * elapsed_s
        if wrapped > ceiling:
            return CounterDelta(
                None,
                reason=(
                    f"counter went backwards from {start} to {end}; a wrap-around would mean "
                    f"{wrapped:g} units in {elapsed_s:g} s, above the plausible {ceiling:g}, "
                    "so the counter was reset"
                ),
            )
    if elapsed_s is not None and max_gap_s is not None and elapsed_s > max_gap_s:
        return CounterDelta(
            None,
            reason=(
                f"counter went backwards from {start} to {end} after {elapsed_s:g} s without a "
                f"reading, over the {max_gap_s:g} s polling allows: a reset in that time reads "
                "the same as a wrap, so a reset cannot be told from a wrap (the poller stalled)"
            ),
        )
    return CounterDelta(wrapped, wrapped=True)
