"""Prefill/decode split: decode = generate − prefill (as AI Energy Score and optimum-benchmark do).

Prefill is measured as a 1-token generation and generate as the full generation; their
difference is decode. When the two measurements are close, noise can make the difference
negative or smaller than the meter can resolve; such a decode figure is invalid, with the
reason, rather than a published number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PhaseSplit:
    """Prefill, full generation and the derived decode figure (same unit as the inputs)."""

    prefill: float | None
    generate: float | None
    decode: float | None
    unit: str
    resolution: float
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def split_phases(
    prefill: float | None, generate: float | None, *, resolution: float = 0.0, unit: str = "J"
) -> PhaseSplit:
    """Decode = generate − prefill, invalid when negative or below ``resolution``.

    Works for energy (J, ``resolution`` = the meter's resolution over both windows) and
    latency (s, ``resolution`` = the clock's resolution).
    """
    def invalid(reason: str) -> PhaseSplit:
        return PhaseSplit(prefill, generate, None, unit, resolution, reason)

    if prefill is None or generate is None:
        missing = "prefill" if prefill is None else "generate"
        return invalid(f"{missing} figure unknown, so decode is too")
    decode = generate - prefill
    if decode < 0:
        return invalid(
            f"decode came out negative ({decode:.6g} {unit}): generate ({generate:.6g} {unit}) "
            f"measured below prefill ({prefill:.6g} {unit}), so the difference is noise"
        )
    if decode < resolution:
        return invalid(
            f"decode ({decode:.6g} {unit}) is below the meter's resolution "
            f"({resolution:.6g} {unit}); measure longer generations"
        )
    return PhaseSplit(prefill, generate, decode, unit, resolution)
