"""Unit conversions and efficiency figures. Joules inside; Wh/kWh and grams CO2e at the edges."""

from __future__ import annotations

J_PER_WH = 3600.0
J_PER_KWH = 3.6e6


def joules_to_wh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_WH


def joules_to_kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / J_PER_KWH


def co2_grams(joules: float | None, carbon_intensity_g_per_kwh: float | None) -> float | None:
    """Emissions (g CO2e) of ``joules`` at a configured grid intensity (g CO2e/kWh)."""
    if joules is None or carbon_intensity_g_per_kwh is None:
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
    tokens: int,
    responses: int,
    carbon_intensity_g_per_kwh: float | None = None,
) -> dict:
    """Every derived figure of one energy total, each ``None`` with a reason when undefined.

    ``tokens`` are generated tokens, ``responses`` completed queries. Returns
    ``{"energy_j", "energy_wh", "energy_kwh", "j_per_token", "j_per_response",
    "wh_per_1000_queries", "tokens_per_joule", "co2_g", "carbon_intensity_g_per_kwh",
    "reasons": {figure: reason}}``.
    """
    reasons: dict[str, str] = {}

    def ratio(name: str, numerator: float | None, denominator: float, what: str) -> float | None:
        if numerator is None:
            reasons[name] = "energy unknown"
            return None
        if not denominator:
            reasons[name] = f"no {what}"
            return None
        return numerator / denominator

    figures = {
        "energy_j": energy_j,
        "energy_wh": joules_to_wh(energy_j),
        "energy_kwh": joules_to_kwh(energy_j),
        "j_per_token": ratio("j_per_token", energy_j, tokens, "generated tokens"),
        "j_per_response": ratio("j_per_response", energy_j, responses, "responses"),
        "wh_per_1000_queries": None
        if ratio("wh_per_1000_queries", energy_j, responses, "responses") is None
        else per_queries_wh(energy_j, responses),
        "tokens_per_joule": tokens_per_joule(tokens, energy_j),
        "co2_g": co2_grams(energy_j, carbon_intensity_g_per_kwh),
        "carbon_intensity_g_per_kwh": carbon_intensity_g_per_kwh,
    }
    if figures["tokens_per_joule"] is None:
        reasons["tokens_per_joule"] = "energy unknown" if energy_j is None \
            else "energy is not positive"
    if figures["co2_g"] is None:
        reasons["co2_g"] = "energy unknown" if energy_j is None else "no carbon intensity configured"
    figures["reasons"] = reasons
    return figures


def significant(value: float, digits: int = 3) -> str:
    """A figure for people (tables, pages): ``digits`` significant digits, or whole units
    with thousands separated from 10**digits up, so a figure never reads ``1e+03``."""
    text = f"{value:.{digits}g}"
    if abs(value) >= 10 ** digits or "e+" in text:  # 999.7 rounds to "1e+03"
        return f"{value:,.0f}"
    return text
