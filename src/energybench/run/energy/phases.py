"""Prefill/decode split: decode = generate − prefill (as AI Energy Score and optimum-benchmark do).

Prefill is measured as a 1-token generation and generate as the full generation; their
difference is decode. When the two measurements are close, noise can make the difference
negative or smaller than the meter can resolve; such a decode figure is invalid, with the
reason, rather than a published number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from energybench.run.energy.checks import ERROR, WINDOW_RELATIVE_RESOLUTION


@dataclass(frozen=True)
class PhaseSplit:
    """Prefill, full generation and the derived decode figure (same unit as the inputs)."""

    prefill: float | None
    generate: float | None
    decode: float | None
    unit: str
    resolution: float | None
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def split_phases(
    prefill: float | None, generate: float | None, *, resolution: float = 0.0, unit: str = "J"
) -> PhaseSplit:
    """Decode = generate − prefill, invalid when negative or below ``resolution``.

    Works for energy (J, ``resolution`` = the meter's resolution over both windows) and
    latency (s, ``resolution`` = the clock's resolution). A NaN or infinite input makes the
    split invalid, naming it, and is never passed on.
    """

    def invalid(reason: str) -> PhaseSplit:
        return PhaseSplit(prefill, generate, None, unit, resolution, reason)

    garbage = {
        k: v
        for k, v in (("prefill", prefill), ("generate", generate), ("resolution", resolution))
        if v is not None and not math.isfinite(v)
    }
    if garbage:
        return PhaseSplit(
            None if "prefill" in garbage else prefill,
            None if "generate" in garbage else generate,
            None,
            unit,
            resolution if math.isfinite(resolution) else None,
            "not a finite number: " + ", ".join(f"{k} = {v}" for k, v in garbage.items()),
        )
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


PER_UNIT_FIGURES = (
    "prefill_j_per_query",
    "decode_j_per_query",
    "prefill_j_per_prompt_token",
    "decode_j_per_generated_token",
)


def phases_per_unit(
    prefill_j: float | None,
    decode_j: float | None,
    *,
    passes: int,
    queries: int | None,
    prompt_tokens: int | None,
    generated_tokens: int | None,
) -> dict[str, float | None]:
    """Prefill and decode joules of one pass over the prompts, per query and per token:
    prefill per prompt token (what it reads), decode per generated token (what it writes).
    ``queries`` and the token counts are of the generate window's ``passes`` passes, so each
    is divided by ``passes`` first. A figure is ``None`` where its energy or count is
    unknown or the count is 0."""

    def per(joules: float | None, count: int | None) -> float | None:
        if joules is None or not count or not passes:
            return None
        return joules * passes / count

    return dict(
        zip(
            PER_UNIT_FIGURES,
            (
                per(prefill_j, queries),
                per(decode_j, queries),
                per(prefill_j, prompt_tokens),
                per(decode_j, generated_tokens),
            ),
        )
    )


def split_window_phases(
    prefill,
    generate,
    *,
    passes: int = 1,
    generate_passes: int = 1,
    relative_resolution: float = WINDOW_RELATIVE_RESOLUTION,
) -> dict[str, PhaseSplit]:
    """Prefill (per pass) and decode (= generate − prefill) gross energy per component, and
    latency, of two measured windows (energybench.run.meters.WindowMeasurement).

    ``prefill`` is a window of ``passes`` repetitions of the prefill; its figure is the
    window's divided by ``passes``; likewise ``generate`` holds ``generate_passes`` full
    generations over the same batches. A component's prefill is valid only when its window
    passes the window checks (counter against power integral) and its meter resolves it to
    ``relative_resolution``; otherwise prefill and decode are ``None`` with the reason.
    Decode below the resolution of both figures, or negative, is invalid with the reason.
    Key ``"latency"`` splits the window durations (seconds) the same way.
    """
    failed = {}
    for check in prefill.checks(None):
        if check.passed is False and check.severity == ERROR:
            component = check.name.split("_", 1)[0]
            failed.setdefault(component, []).append(f"{check.name}: {check.detail}")
    phases = {}
    for name, energy in generate.components.items():
        before = prefill.components[name]
        prefill_resolution = before.detail.get("resolution_j") or 0.0
        problems = list(failed.get(name, []))
        # 0 J is a reading too: one the meter cannot resolve to any fraction of it.
        if before.joules is not None and prefill_resolution > relative_resolution * before.joules:
            problems.append(
                f"the prefill window's {before.joules:.4g} J is resolved only to "
                f"{prefill_resolution:.4g} J, over {relative_resolution:.0%}: measure more passes"
            )
        resolution = (
            prefill_resolution / passes
            + (energy.detail.get("resolution_j") or 0.0) / generate_passes
        )
        generated = None if energy.joules is None else energy.joules / generate_passes
        if problems:
            phases[name] = PhaseSplit(
                None, generated, None, "J", resolution, "prefill invalid: " + "; ".join(problems)
            )
            continue
        per_pass = None if before.joules is None else before.joules / passes
        phases[name] = split_phases(per_pass, generated, resolution=resolution)
    phases["latency"] = split_phases(
        prefill.duration_s / passes, generate.duration_s / generate_passes, unit="s"
    )
    return phases
