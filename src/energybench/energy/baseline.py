"""Idle subtraction: gross energy = idle energy (idle power × duration) + net (dynamic) energy."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NetEnergy:
    """Gross, idle and net energy of one component over one window (joules)."""

    gross_j: float | None
    idle_j: float | None
    net_j: float | None
    idle_w: float | None
    duration_s: float
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def idle_power(joules: float | None, duration_s: float) -> float | None:
    """Average power (W) of an idle measurement; ``None`` when its energy is unknown."""
    if joules is None:
        return None
    if duration_s <= 0:
        raise ValueError(f"idle measurement needs a positive duration, got {duration_s} s")
    return joules / duration_s


def subtract_idle(
    gross_j: float | None, idle_w: float | None, duration_s: float, *, idle_reason: str | None = None
) -> NetEnergy:
    """Split gross energy into idle energy over the same duration and net energy.

    Net energy below zero means the idle baseline does not describe this window (the machine
    was busier while idling, or clocks changed); it is reported as invalid with that reason,
    never clipped to zero. ``idle_reason`` says why ``idle_w`` is unknown, if it is.
    """
    if gross_j is None:
        return NetEnergy(None, None, None, idle_w, duration_s, "gross energy unknown")
    if idle_w is None:
        return NetEnergy(
            gross_j, None, None, None, duration_s, idle_reason or "no idle baseline measured"
        )
    idle_j = idle_w * duration_s
    net_j = gross_j - idle_j
    if net_j < 0:
        return NetEnergy(
            gross_j,
            idle_j,
            None,
            idle_w,
            duration_s,
            f"gross energy {gross_j:.6g} J is below the idle energy {idle_j:.6g} J "
            f"({idle_w:.4g} W × {duration_s:.4g} s): the idle baseline does not describe "
            "this window",
        )
    return NetEnergy(gross_j, idle_j, net_j, idle_w, duration_s)
