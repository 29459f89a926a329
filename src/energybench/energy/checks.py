"""Self-checks of a measurement. A failed check flags a figure; it never hides it.

Each check gives ``{"name", "value", "limit", "passed", "severity", "detail"}``; ``passed`` is
``None`` when the check could not be evaluated (the detail says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


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


def check_energy_per_token(
    energy_per_token_j: float | None,
    average_power_w: float | None,
    throughput_tokens_per_s: float | None,
    *,
    tolerance: float = 0.01,
) -> Check:
    """J/token must equal average power / throughput (the report's figures must agree)."""
    name = "energy_per_token_consistent"
    if None in (energy_per_token_j, average_power_w, throughput_tokens_per_s) or not throughput_tokens_per_s:
        return Check(name, None, tolerance, None, "energy per token, average power or throughput unknown")
    implied = average_power_w / throughput_tokens_per_s
    diff = _relative_difference(energy_per_token_j, implied)
    return Check(
        name,
        diff,
        tolerance,
        diff <= tolerance,
        f"{energy_per_token_j:.6g} J/token vs {average_power_w:.6g} W / "
        f"{throughput_tokens_per_s:.6g} tokens/s = {implied:.6g} J/token",
    )


def check_power_range(
    average_power_w: float | None,
    idle_power_w: float | None,
    power_limit_w: float | None,
    *,
    limit_factor: float = 1.1,
    component: str = "gpu",
) -> Check:
    """Average power must lie between the idle power and ``limit_factor`` × the power limit."""
    name = f"{component}_power_in_range"
    if average_power_w is None:
        return Check(name, None, None, None, "average power unknown")
    low = idle_power_w
    high = power_limit_w * limit_factor if power_limit_w is not None else None
    problems = []
    if low is not None and average_power_w < low:
        problems.append(f"below the idle power {low:.4g} W")
    if high is not None and average_power_w > high:
        problems.append(f"above {limit_factor:g} × the power limit ({high:.4g} W)")
    unknown = [what for what, bound in (("idle power", low), ("power limit", high)) if bound is None]
    detail = f"average {average_power_w:.4g} W"
    if problems:
        detail += " is " + " and ".join(problems)
    if unknown:
        detail += "; not checked against: " + ", ".join(unknown)
    passed = False if problems else (None if len(unknown) == 2 else True)
    return Check(name, average_power_w, [low, high], passed, detail)


def check_window_length(duration_s: float, *, minimum_s: float = 5.0) -> Check:
    """Energy counters update every few to hundreds of milliseconds; short windows are coarse."""
    passed = duration_s >= minimum_s
    detail = (
        f"window {duration_s:.3g} s"
        + ("" if passed else f" is shorter than {minimum_s:g} s: the meter's update interval weighs heavily")
    )
    return Check("window_long_enough", duration_s, minimum_s, passed, detail, WARNING)


def check_counter_vs_integral(
    counter_j: float | None, integral_j: float | None, *, tolerance: float = 0.05, component: str = "gpu"
) -> Check:
    """The energy counter and the integrated sampled power must agree within ``tolerance``."""
    name = f"{component}_counter_matches_power_integral"
    if counter_j is None or integral_j is None:
        return Check(name, None, tolerance, None, "needs both a counter and a power integral")
    diff = _relative_difference(counter_j, integral_j)
    return Check(
        name,
        diff,
        tolerance,
        diff <= tolerance,
        f"counter {counter_j:.6g} J vs integrated power {integral_j:.6g} J",
    )


def check_trial_variation(values: Sequence[float | None], *, max_cv: float = 0.05) -> Check:
    """Coefficient of variation (std/mean, ddof=1) of the valid trials must stay under ``max_cv``."""
    valid = [v for v in values if v is not None]
    if len(valid) < 2:
        return Check("trials_consistent", None, max_cv, None, f"{len(valid)} valid trial(s): no variation to check", WARNING)
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
