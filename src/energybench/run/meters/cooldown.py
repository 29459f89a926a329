"""Cool-down before a trial: wait until every GPU's temperature is flat and back near the
temperature it had while idling, or a timeout."""

from __future__ import annotations

from collections.abc import Mapping

# How far above its idle temperature a GPU may still be and count as cooled down.
IDLE_MARGIN_C = 3.0


def temperatures_settled(
    records: list[dict],
    now: float,
    settle_s: float,
    tolerance_c: float,
    idle_c: Mapping[str, float] | None = None,
    idle_margin_c: float = IDLE_MARGIN_C,
) -> dict[str, bool]:
    """Per device with temperature readings: did it stay within ``tolerance_c`` (max − min)
    over the last ``settle_s`` seconds, and (where ``idle_c`` gives its idle temperature) is
    it at most ``idle_margin_c`` above it? Flat alone is not cooled: a GPU holds a hot,
    flat temperature under a steady fan. A device sampled for less than ``settle_s`` has not
    settled."""
    readings: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        if record.get("temperature_c") is not None:
            readings.setdefault(record["device"], []).append((record["t"], record["temperature_c"]))
    settled = {}
    for device, points in readings.items():
        recent = [c for t, c in points if t >= now - settle_s]
        long_enough = min(t for t, _ in points) <= now - settle_s
        # One reading shows no trend: flat needs at least two.
        flat = long_enough and len(recent) >= 2 and max(recent) - min(recent) <= tolerance_c
        idle = (idle_c or {}).get(device)
        settled[device] = flat and (idle is None or recent[-1] <= idle + idle_margin_c)
    return settled
