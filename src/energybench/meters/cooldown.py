"""Cool-down between trials: wait until every GPU's temperature has settled, or a timeout."""

from __future__ import annotations


def temperatures_settled(records: list[dict], now: float, settle_s: float, tolerance_c: float) -> dict[str, bool]:
    """Per device with temperature readings: did it stay within ``tolerance_c`` (max − min)
    over the last ``settle_s`` seconds? A device sampled for less than ``settle_s`` has not."""
    readings: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        if record.get("temperature_c") is not None:
            readings.setdefault(record["device"], []).append((record["t"], record["temperature_c"]))
    settled = {}
    for device, points in readings.items():
        recent = [c for t, c in points if t >= now - settle_s]
        long_enough = min(t for t, _ in points) <= now - settle_s
        settled[device] = long_enough and bool(recent) and max(recent) - min(recent) <= tolerance_c
    return settled
