"""Summary of repeated trials: mean, standard deviation and a bootstrap confidence interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 9999


@dataclass(frozen=True)
class TrialSummary:
    """Per-trial values and their summary; ``None`` fields carry the reason in ``reason``."""

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


def summarize_trials(
    values: Sequence[float | None], *, confidence_level: float = 0.95
) -> TrialSummary:
    """Mean, sample standard deviation (ddof=1), coefficient of variation and a percentile
    bootstrap confidence interval of the mean (scipy.stats.bootstrap, fixed seed, so the same
    trials always give the same interval).

    Invalid trials (``None``) are left out of the summary and counted in ``reason``. With a
    single valid trial there is no spread: std, cv and the interval are ``None``.
    """
    method = f"percentile bootstrap of the mean, {BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}"
    valid = np.array([v for v in values if v is not None], dtype=float)
    dropped = len(values) - len(valid)
    notes = [f"{dropped} of {len(values)} trials invalid and left out"] if dropped else []

    def summary(mean=None, std=None, cv=None, low=None, high=None, extra=None) -> TrialSummary:
        reason = "; ".join(notes + ([extra] if extra else [])) or None
        return TrialSummary(
            list(values), len(valid), mean, std, cv, low, high, confidence_level, method, reason
        )

    if len(valid) == 0:
        return summary(extra="no valid trial")
    mean = float(valid.mean())
    if len(valid) == 1:
        return summary(mean, extra="one valid trial: no spread, so no std or confidence interval")
    std = float(valid.std(ddof=1))
    cv = std / abs(mean) if mean != 0 else None
    result = stats.bootstrap(
        (valid,),
        np.mean,
        confidence_level=confidence_level,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    interval = result.confidence_interval
    return summary(mean, std, cv, float(interval.low), float(interval.high))
