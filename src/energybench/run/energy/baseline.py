"""Idle subtraction: gross energy = idle energy (idle power × duration) + net (dynamic) energy."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# Floating-point sums of the same joules differ in the last bits; below this relative amount a
# difference between gross and idle is rounding, not measurement.
ROUNDING = 1e-9


@dataclass(frozen=True)
class NetEnergy:
    """Gross, idle and net energy of one component over one window (joules).

    ``uncertainty_j`` is how far net may lie below zero and still be a measurement of "no
    dynamic energy": the meter's resolution over the window plus the idle baseline's
    uncertainty over the window's duration. Within it, a slightly negative net is kept as
    measured (never clipped); beyond it, net is ``None`` with the reason.
    """

    gross_j: float | None
    idle_j: float | None
    net_j: float | None
    idle_w: float | None
    duration_s: float | None
    reason: str | None = None
    uncertainty_j: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def idle_power(joules: float | None, duration_s: float) -> float | None:
    """Average power (W) of an idle measurement; ``None`` when its energy is unknown or not a
    finite number."""
    if joules is None or not math.isfinite(joules):
        return None
    if duration_s <= 0:
        raise ValueError(f"idle measurement needs a positive duration, got {duration_s} s")
    return joules / duration_s


def subtract_idle(
    gross_j: float | None,
    idle_w: float | None,
    duration_s: float,
    *,
    idle_reason: str | None = None,
    resolution_j: float = 0.0,
    idle_uncertainty_w: float = 0.0,
) -> NetEnergy:
    """Split gross energy into idle energy over the same duration and net energy.

    ``resolution_j`` is the gross figure's meter resolution over the window,
    ``idle_uncertainty_w`` the idle power's uncertainty (its sub-windows' spread). Net energy
    down to minus their combined uncertainty is a measurement of "nothing dynamic" and is kept
    as it came out; further below zero, the component drew less than while idling, so the
    baseline does not describe this window, and net is ``None`` with the shortfall in the
    reason. ``idle_reason`` says why ``idle_w`` is unknown, if it is.
    """
    garbage = {
        k: v
        for k, v in (
            ("gross", gross_j),
            ("idle power", idle_w),
            ("duration", duration_s),
            ("resolution", resolution_j),
            ("idle uncertainty", idle_uncertainty_w),
        )
        if v is not None and not math.isfinite(v)
    }
    if garbage:
        return NetEnergy(
            None,
            None,
            None,
            None,
            duration_s if math.isfinite(duration_s) else None,
            "not a finite number: " + ", ".join(f"{k} = {v}" for k, v in garbage.items()),
        )
    if gross_j is None:
        return NetEnergy(None, None, None, idle_w, duration_s, "gross energy unknown")
    if idle_w is None:
        return NetEnergy(
            gross_j, None, None, None, duration_s, idle_reason or "no idle baseline measured"
        )
    idle_j = idle_w * duration_s
    uncertainty = (
        resolution_j + idle_uncertainty_w * duration_s + ROUNDING * max(abs(gross_j), abs(idle_j))
    )
    net_j = gross_j - idle_j
    if not all(map(math.isfinite, (idle_j, net_j, uncertainty))):  # finite inputs overflowed
        return NetEnergy(
            None,
            None,
            None,
            idle_w,
            duration_s,
            f"gross {gross_j} J, idle {idle_j} J or their uncertainty "
            f"{uncertainty} J is not a finite number",
        )
    if net_j < -uncertainty:
        return NetEnergy(
            gross_j,
            idle_j,
            None,
            idle_w,
            duration_s,
            f"gross energy {gross_j:.6g} J is below the idle energy {idle_j:.6g} J "
            f"({idle_w:.4g} W × {duration_s:.4g} s) by {-net_j:.4g} J, more than the "
            f"{uncertainty:.4g} J the meter's resolution and the idle baseline's spread allow: "
            "the component drew less than while idling (a power state changed after the "
            "baseline was taken)",
            uncertainty,
        )
    return NetEnergy(gross_j, idle_j, net_j, idle_w, duration_s, None, uncertainty)
