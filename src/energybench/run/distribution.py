"""The spread of a set of measurements (latencies, per request), as the report states it.

Shared by a backend that times single requests (the vLLM load generator) and the report layer
that places those figures (``report_builder.latency_section``), so neither depends on the other."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def distribution(values: Sequence[float]) -> dict[str, float] | None:
    """Count, mean, median, p90 and p99 of `values`; None when there are none."""
    if not values:
        return None
    array = np.asarray(values, dtype=float)
    p50, p90, p99 = np.percentile(array, [50, 90, 99])
    return {
        "count": int(array.size),
        "mean": float(array.mean()),
        "median": float(p50),
        "p90": float(p90),
        "p99": float(p99),
    }
