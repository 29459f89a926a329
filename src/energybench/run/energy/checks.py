"""Self-checks of a measurement. A failed check flags a figure; it never hides it.

Each check gives ``{"name", "value", "limit", "passed", "severity", "detail"}``; ``passed`` is
``None`` when the check could not be evaluated (the detail says why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


# A measured window must be long enough for its meters to resolve its energy to this fraction
# (the window check's limit), and a prefill figure must be resolved to it.
WINDOW_RELATIVE_RESOLUTION = 0.02

ERROR = "error"
WARNING = "warning"
# The window check's limit where no monitor stated what its meters resolve.
DEFAULT_MINIMUM_WINDOW_S = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    value: Any
    limit: Any
    passed: bool | None
    detail: str
    severity: str = ERROR

    def to_dict(self) -> dict:
        return asdict(self)


def _relative_difference(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


def _not_finite(
    name: str, limit: Any, severity: str = ERROR, **values: float | None
) -> Check | None:
    """A failed check naming the inputs that are NaN or infinite (a meter's bad reading must
    never pass a check), or ``None`` when every given input is a finite number or unknown."""
    bad = {what: v for what, v in values.items() if v is not None and not math.isfinite(v)}
    if not bad:
        return None
    return Check(
        name,
        None,
        limit,
        False,
        "not a finite number: " + ", ".join(f"{k} = {v}" for k, v in bad.items()),
        severity,
    )


def check_power_range(
    average_power_w: float | None,
    idle_power_w: float | None,
    power_limit_w: float | None,
    *,
    limit_factor: float = 1.1,
    component: str = "gpu",
    allowance_w: float = 0.0,
) -> Check:
    """Average power must lie between the idle power and ``limit_factor`` × the power limit,
    each widened by ``allowance_w``: what the meter's resolution and the idle power's spread
    leave unknown over this window (a RAPL DRAM domain with little dynamic power sits a hair
    below its idle half the time, and that is a measurement of "nothing dynamic")."""
    name = f"{component}_power_in_range"
    limit = [idle_power_w, power_limit_w * limit_factor if power_limit_w is not None else None]
    if bad := _not_finite(
        name,
        limit,
        average_power_w=average_power_w,
        idle_power_w=idle_power_w,
        allowance_w=allowance_w,
    ):
        return bad
    if average_power_w is None:
        return Check(name, None, None, None, "average power unknown")
    low, high = limit
    problems = []
    if low is not None and average_power_w < low - allowance_w:
        problems.append(f"below the idle power {low:.4g} W")
    if high is not None and average_power_w > high + allowance_w:
        problems.append(f"above {limit_factor:g} × the power limit ({high:.4g} W)")
    unknown = [
        what for what, bound in (("idle power", low), ("power limit", high)) if bound is None
    ]
    detail = f"average {average_power_w:.4g} W"
    if problems:
        detail += " is " + " and ".join(problems)
    if allowance_w:
        detail += f"; ± {allowance_w:.3g} W the meter's resolution and idle spread allow"
    if unknown:
        detail += "; not checked against: " + ", ".join(unknown)
    passed = False if problems else (None if len(unknown) == 2 else True)
    return Check(name, average_power_w, limit, passed, detail)


def check_window_length(duration_s: float, *, minimum_s: float = DEFAULT_MINIMUM_WINDOW_S) -> Check:
    """A window shorter than ``minimum_s``, the shortest its meters resolve to the fraction
    the pipeline asks for, is coarse: the meters' update interval weighs heavily in it."""
    if bad := _not_finite("window_long_enough", minimum_s, WARNING, duration_s=duration_s):
        return bad
    passed = duration_s >= minimum_s
    detail = f"window {duration_s:.3g} s" + (
        ""
        if passed
        else f" is shorter than {minimum_s:.3g} s, the shortest its meters "
        "resolve: their update interval weighs heavily"
    )
    return Check("window_long_enough", duration_s, minimum_s, passed, detail, WARNING)


def check_counter_vs_integral(
    counter_j: float | None,
    integral_j: float | None,
    *,
    resolution_j: float | None = None,
    tolerance: float | None = None,
    component: str = "gpu",
) -> Check:
    """The energy counter and the integrated sampled power must agree within what the two
    meters can resolve over this window: ``resolution_j`` (the counter's resolution plus the
    power integral's, see docs/energy.md) as a fraction of the counter's energy. A 1 s
    averaged power reading over a 10 s window thus gets a wider tolerance than over 30 s.
    ``tolerance`` (a fraction) replaces the derived one where given.
    """
    name = f"{component}_counter_matches_power_integral"
    if bad := _not_finite(
        name, tolerance, counter_j=counter_j, integral_j=integral_j, resolution_j=resolution_j
    ):
        return bad
    if counter_j is None or integral_j is None:
        return Check(name, None, tolerance, None, "needs both a counter and a power integral")
    if tolerance is None:
        if resolution_j is None:
            return Check(
                name, None, None, None, "the meters' resolution over the window is unknown"
            )
        scale = max(abs(counter_j), abs(integral_j))
        tolerance = resolution_j / scale if scale else 0.0
        derived = f"; tolerance {tolerance:.2%} = resolution {resolution_j:.4g} J / {scale:.6g} J"
    else:
        derived = ""
    diff = _relative_difference(counter_j, integral_j)
    return Check(
        name,
        diff,
        tolerance,
        diff <= tolerance,
        f"counter {counter_j:.6g} J vs integrated power {integral_j:.6g} J{derived}",
    )


def check_trial_variation(values: Sequence[float | None], *, max_cv: float = 0.05) -> Check:
    """Coefficient of variation (std/mean, ddof=1) of the valid trials must stay under ``max_cv``."""
    if bad := _not_finite(
        "trials_consistent", max_cv, WARNING, **{f"trial {i}": v for i, v in enumerate(values)}
    ):
        return bad
    valid = [v for v in values if v is not None]
    if len(valid) < 2:
        return Check(
            "trials_consistent",
            None,
            max_cv,
            None,
            f"{len(valid)} valid trial(s): no variation to check",
            WARNING,
        )
    mean = sum(valid) / len(valid)
    if mean == 0:
        return Check("trials_consistent", None, max_cv, None, "mean of the trials is zero", WARNING)
    std = (sum((v - mean) ** 2 for v in valid) / (len(valid) - 1)) ** 0.5
    cv = std / abs(mean)
    return Check(
        "trials_consistent",
        cv,
        max_cv,
        cv <= max_cv,
        f"coefficient of variation {cv:.3%} over {len(valid)} trials",
        WARNING,
    )


def check_stream_read_on_time(share_read_together: float | None, *, max_share: float) -> Check:
    """A serving client must read each streamed chunk as it arrives: one that falls behind the
    server reads answers in bursts, so its times to first token come out late and its
    inter-token gaps short. Energy is unaffected; the latency and throughput figures are not."""
    name = "stream_read_on_time"
    if share_read_together is None:
        return Check(name, None, max_share, None, "no streamed chunks after a first one", WARNING)
    passed = share_read_together <= max_share
    detail = (
        f"{share_read_together:.0%} of the streamed chunks were read together with the one before"
        + (
            ""
            if passed
            else ": the client fell behind the server, so time to first token is late and the "
            "inter-token gaps short (see docs/vllm.md)"
        )
    )
    return Check(name, share_read_together, max_share, passed, detail, WARNING)
