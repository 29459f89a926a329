"""Thread-safe store of the samples the meters take (power, temperature, clocks, utilization)."""

from __future__ import annotations

import threading


class Timeline:
    def __init__(self) -> None:
        self._records: list[dict] = []
        self._lock = threading.Lock()

    def extend(self, records: list[dict]) -> None:
        with self._lock:
            self._records.extend(records)

    def records(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._records]

    def since(self, t: float) -> list[dict]:
        """Records at or after ``t`` (records arrive in time order)."""
        with self._lock:
            first = len(self._records)
            while first > 0 and self._records[first - 1]["t"] >= t:
                first -= 1
            return [dict(r) for r in self._records[first:]]

    def series(self, device: str, field: str = "power_w") -> tuple[list[float], list[float | None]]:
        """Times and values of one field of one device, in sampling order."""
        with self._lock:
            rows = [(r["t"], r.get(field)) for r in self._records if r["device"] == device]
        return [t for t, _ in rows], [v for _, v in rows]
