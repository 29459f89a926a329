"""The keys AI Energy Score's readers take from a report, and how they are stored.

AES's ``results_aggregator.py`` and ``summarize_gpu_wh.py`` read ``energy.gpu_energy_wh`` and
the ``summary`` figures of a report as numbers. A report is strict JSON: an unknown figure under
one of AES's keys is ``null`` (never 0, which would read as a measurement), its reason beside it
in our own sections (``energy.components``, ``metrics.null_reasons``). AES's readers stop on
such a ``null``, which is right: a run whose GPU energy is unknown has nothing to submit
(energybench.aes.submission leaves it out and says why; docs/aes.md). Reports written by
earlier versions carried ``NaN`` there; :func:`decode` reads it as ``None``.
"""

from __future__ import annotations

import json
import math

from energybench.run.energy import joules_to_kwh, joules_to_wh
from energybench.run.files import json_text

SUMMARY_KEYS = (
    "total_prompts",
    "successful_prompts",
    "failed_prompts",
    "total_duration_seconds",
    "avg_latency_seconds",
    "avg_time_to_first_token",
    "total_tokens",
    "total_prompt_tokens",
    "total_completion_tokens",
    "throughput_tokens_per_second",
)
# The keys of AES's `energy` section (CodeCarbon's figures, as ai_energy_benchmarks writes
# them). AES's `energy_wh`/`energy_kwh` are GPU energy; `total_*` are GPU + CPU + RAM.
ENERGY_KEYS = tuple(
    f"{part}_{unit}"
    for part in ("gpu_energy", "cpu_energy", "ram_energy", "total_energy", "energy")
    for unit in ("wh", "kwh")
) + ("emissions_g_co2eq", "emissions_kg_co2eq", "duration_seconds", "carbon_intensity_g_per_kwh")


def with_aes_energy_keys(report: dict) -> dict:
    """A copy of ``report`` whose ``energy`` section also has AES's keys that ours lacks,
    each derived from a figure the report already holds (``None`` where that is unknown)."""
    gpu_joules = report["energy"]["components"]["gpu"]["gross_joules"]
    co2_g = report["metrics"]["co2_emissions_g"]
    energy = {
        **report["energy"],
        "energy_wh": joules_to_wh(gpu_joules),
        "energy_kwh": joules_to_kwh(gpu_joules),
        "emissions_g_co2eq": co2_g,
        "emissions_kg_co2eq": None if co2_g is None else co2_g / 1000,
        "duration_seconds": report["summary"]["total_duration_seconds"],
        "carbon_intensity_g_per_kwh": report["metrics"]["carbon_intensity_g_per_kwh"],
    }
    return {**report, "energy": energy}


def _replace(report: dict, old, new) -> dict:
    """A copy of ``report`` with ``new`` in place of each AES key whose value ``old`` matches."""
    sections = {"summary": SUMMARY_KEYS, "energy": ENERGY_KEYS}
    copy = dict(report)
    for section, keys in sections.items():
        copy[section] = {k: new if k in keys and old(v) else v for k, v in report[section].items()}
    return copy


def encode(report: dict) -> str:
    """The report as file text: strict JSON (a NaN computed anywhere is a bug: refused)."""
    return json_text(report)


_JSON_TYPES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def decode(text: str) -> dict:
    """A report read from its file (an earlier version's NaN under AES's keys as ``None``). Text that is not JSON, or JSON
    that is not an object, raises ``ValueError`` saying which."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"not a JSON object but {_JSON_TYPES[type(document)]}")
    if not all(isinstance(document.get(s), dict) for s in ("summary", "energy")):
        return document
    return _replace(document, lambda v: isinstance(v, float) and math.isnan(v), None)
