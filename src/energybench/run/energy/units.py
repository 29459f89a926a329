"""Unit conversions and efficiency figures. Joules inside; Wh/kWh and grams CO2e at the edges."""

from __future__ import annotations

import math

J_PER_WH = 3600.0
J_PER_KWH = 3.6e6


def joules_to_wh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_WH


def joules_to_kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_KWH


def co2_grams(joules: float | None, carbon_intensity_g_per_kwh: float | None) -> float | None:
    """Emissions (g CO2e) of ``joules`` at a configured grid intensity (g CO2e/kWh)."""
    if (
        joules is None
        or carbon_intensity_g_per_kwh is None
        or not math.isfinite(joules * carbon_intensity_g_per_kwh)
    ):
        return None
    return joules / J_PER_KWH * carbon_intensity_g_per_kwh


def per_queries_wh(joules: float | None, responses: int, queries: int = 1000) -> float | None:
    """Energy per ``queries`` successful queries (Wh) of ``joules`` spent on ``responses``
    of them; ``None`` when the energy is unknown or no query succeeded."""
    if joules is None or not responses:
        return None
    return queries * joules / J_PER_WH / responses


def tokens_per_joule(tokens: int, joules: float | None) -> float | None:
    """Tokens per joule; ``None`` when the energy is unknown or not positive."""
    if joules is None or joules <= 0:
        return None
    return tokens / joules


def efficiency_figures(
    energy_j: float | None,
    *,
    tokens: int | None,
    responses: int,
    carbon_intensity_g_per_kwh: float | None = None,
) -> dict:
    """Every derived figure of one energy total, each ``None`` with a reason when undefined.

    ``tokens`` are generated tokens (``None``: a task that generates none, as image
    generation), ``responses`` completed queries. Returns
    ``{"energy_j", "energy_wh", "energy_kwh", "j_per_token", "j_per_response",
    "wh_per_1000_queries", "tokens_per_joule", "co2_g", "carbon_intensity_g_per_kwh",
    "reasons": {figure: reason}}``.
    """
    reasons: dict[str, str] = {}
    unknown = "energy unknown"
    if energy_j is not None and not math.isfinite(energy_j):
        unknown = f"energy is not a finite number ({energy_j})"
        energy_j = None

    def ratio(name: str, numerator: float | None, denominator: float, what: str) -> float | None:
        if numerator is None:
            reasons[name] = unknown
            return None
        if not denominator:
            reasons[name] = f"no {what}"
            return None
        return numerator / denominator

    figures = {
        "energy_j": energy_j,
        "energy_wh": joules_to_wh(energy_j),
        "energy_kwh": joules_to_kwh(energy_j),
        "j_per_token": ratio("j_per_token", energy_j, tokens or 0, "generated tokens"),
        "j_per_response": ratio("j_per_response", energy_j, responses, "responses"),
        "wh_per_1000_queries": None
        if ratio("wh_per_1000_queries", energy_j, responses, "responses") is None
        else per_queries_wh(energy_j, responses),
        "tokens_per_joule": None if tokens is None else tokens_per_joule(tokens, energy_j),
        "co2_g": co2_grams(energy_j, carbon_intensity_g_per_kwh),
        "carbon_intensity_g_per_kwh": carbon_intensity_g_per_kwh,
    }
    if tokens is None:
        reasons["j_per_token"] = reasons["tokens_per_joule"] = "the task generates no tokens"
    elif figures["tokens_per_joule"] is None:
        reasons["tokens_per_joule"] = unknown if energy_j is None else "energy is not positive"
    if figures["co2_g"] is None:
        reasons["co2_g"] = (
            unknown
            if energy_j is None
            else "no carbon intensity configured"
            if carbon_intensity_g_per_kwh is None
            else f"carbon intensity is not a finite number ({carbon_intensity_g_per_kwh})"
        )
    for name, value in figures.items():  # finite inputs whose quotient overflowed
        if value is not None and not math.isfinite(value):
            figures[name], reasons[name] = None, f"{name} overflowed ({value})"
    if unknown != "energy unknown":  # the caller's None has the caller's reason
        reasons.update(dict.fromkeys(("energy_j", "energy_wh", "energy_kwh"), unknown))
    figures["reasons"] = reasons
    return figures


def significant(value: float, digits: int = 3) -> str:
    """A figure for people (tables, pages): ``digits`` significant digits, or whole units
    with thousands separated from 10**digits up, so a figure never reads ``1e+03``."""
    text = f"{value:.{digits}g}"
    if abs(value) >= 10**digits or "e+" in text:  # 999.7 rounds to "1e+03"
        return f"{value:,.0f}"
    return text
