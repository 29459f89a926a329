"""Statistics of repeated trials: mean, standard deviation and a Student's t confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

CI_METHOD = "Student's t interval of the mean (n - 1 degrees of freedom)"


@dataclass(frozen=True)
class TrialStatistics:
    """Per-trial values and their statistics; ``None`` fields carry the reason in ``reason``."""

    values: list[float | None]
    n_valid: int
    mean: float | None
    std: float | None
    cv: float | None
    ci_low: float | None
    ci_high: float | None
    confidence_level: float
    ci_method: str
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _invalid_trials(values: Sequence[float | None]) -> list[int]:
    return [i for i, v in enumerate(values) if v is None or not math.isfinite(v)]


def mean_over_trials(values: Sequence[float | None]) -> float | None:
    """The mean of ``trial_statistics`` alone (no interval to work out): ``None`` without
    trials or when any trial's value is invalid."""
    values = list(values)
    return None if not values or _invalid_trials(values) else float(np.mean(values))


def trial_statistics(
    values: Sequence[float | None],
    *,
    confidence_level: float = 0.95,
    reasons: Sequence[str | None] | None = None,
) -> TrialStatistics:
    """Mean, sample standard deviation (ddof=1), coefficient of variation and a Student's t
    confidence interval of the mean: mean ± t(1 − α/2, n − 1) × std / √n.

    Trials are assumed independent and their values roughly normal. Unlike a percentile
    bootstrap (which for three trials is exactly [min, max] and covers the mean in about 74 %
    of cases), its coverage matches its label at any n ≥ 2.

    Every figure of a run is averaged over the same trials: all of them. When any trial's
    value is invalid (``None``, or not a finite number) the statistics are ``None`` with the
    invalid trials named (and ``reasons[i]``, where given, saying why): a mean over the
    others would describe a different subset of trials from the run's other figures, and
    dropping the trials that came out invalid biases it. With a single trial there is no
    spread: std, cv and the interval are ``None``.
    """
    values = list(values)
    invalid = _invalid_trials(values)

    def result(mean=None, std=None, cv=None, low=None, high=None, reason=None, n_valid=0):
        # A NaN or infinite trial is named in the reason and never passed on.
        shown = [None if i in invalid else v for i, v in enumerate(values)]
        return TrialStatistics(
            shown, n_valid, mean, std, cv, low, high, confidence_level, CI_METHOD, reason
        )

    if not values:
        return result(reason="no trial")
    if invalid:
        why = [
            f"trial {i}"
            + (f" ({reasons[i]})" if reasons and reasons[i] else "")
            + ("" if values[i] is None else f" is {values[i]}")
            for i in invalid
        ]
        return result(
            reason=f"{len(invalid)} of {len(values)} trials invalid: "
            + "; ".join(why)
            + (
                ": a mean over the others would describe a different subset of trials"
                if len(invalid) < len(values)
                else ""
            ),
            n_valid=len(values) - len(invalid),
        )
    valid = np.array(values, dtype=float)
    mean = float(valid.mean())
    if not math.isfinite(mean):
        return result(reason=f"the trials' mean overflowed (values {values})", n_valid=len(valid))
    if len(valid) == 1:
        return result(
            mean, reason="one trial: no spread, so no std or confidence interval", n_valid=1
        )
    with np.errstate(over="ignore"):  # finite values this far apart overflow, checked below
        std = float(valid.std(ddof=1))
    cv = std / abs(mean) if mean != 0 else None
    # Imported here: scipy.stats is slow to import (docs/PERFORMANCE.md, section 2), and the
    # workflow imports this module (through the backends' settings checks) every time it
    # plans, where no trial is summed.
    from scipy import stats

    half = (
        float(stats.t.ppf(0.5 + confidence_level / 2, len(valid) - 1)) * std / math.sqrt(len(valid))
    )
    figures = (mean, std, cv, mean - half, mean + half)
    if not all(v is None or math.isfinite(v) for v in figures):
        return result(
            reason=f"the trials' statistics overflowed (values {values})", n_valid=len(valid)
        )
    return result(*figures, n_valid=len(valid))
