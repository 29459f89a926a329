"""The palette works for everyone (issue 24, item 6), by computation: WCAG 2.1 AA contrast
(text 4.5:1, graphics 3:1) on the pages the colours are drawn on, and colours drawn together
kept apart under simulated protanopia, deuteranopia and tritanopia (CIEDE2000)."""

import re

import pytest
from conftest import REPO_ROOT

from energybench.publish.paper import palette, style
from energybench.publish.paper.figures import latency, phases, timeline
from energybench.publish.paper.palette import (
    COMPONENT_COLORS,
    DARK_PAGE,
    GRAPHICS_CONTRAST,
    LIGHT_PAGE,
    MIN_DIFFERENCE,
    PALETTE,
    STAR_COLORS,
    STAR_COLORS_DARK,
    TEXT_CONTRAST,
    ciede2000,
    closest_pair,
    contrast_ratio,
)

# Colours one figure, label or page draws side by side, which must stay apart.
DRAWN_TOGETHER = {
    "stars": STAR_COLORS,
    "stars on the dark page": STAR_COLORS_DARK,
    "components": COMPONENT_COLORS,
    "prefill and decode": phases.PHASE_COLORS,
    "latency percentiles": latency.PERCENTILES,
    "timeline windows": {"trial": timeline.TRIAL_COLOR, "steady": timeline.STEADY_COLOR},
}
# The palette before issue 24: 3 stars' yellow at 1.32:1 on white, and in a deuteranopia
# simulation 5 stars close to "unrated".
OKABE_ITO_STARS = ["#009E73", "#56B4E9", "#F0E442", "#E69F00", "#D55E00", "#999999"]


def test_contrast_ratio_is_wcags():
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#F0E442", "#FFFFFF") == pytest.approx(1.32, abs=0.01)


@pytest.mark.parametrize(
    "first, second, difference",
    [  # Sharma, Wu and Dalal's test data
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0000),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),  # hue means across 0°
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_the_published_test_pairs(first, second, difference):
    assert ciede2000(first, second) == pytest.approx(difference, abs=1e-4)


@pytest.mark.parametrize("vision", palette.VISION_DEFICIENCIES)
def test_the_simulations_leave_greys_grey(vision):
    # Each of Machado's rows sums to 1: a transcription error would tint the greys.
    for grey in ("#000000", "#808080", "#FFFFFF"):
        assert palette.seen(grey, vision) == pytest.approx(palette.linear_rgb(grey), abs=1e-5)


def test_deuteranopia_turns_red_and_green_alike():
    red, green = "#D55E00", "#009E73"
    typical = ciede2000(*(palette.cielab(palette.seen(c, None)) for c in (red, green)))
    deutan = ciede2000(*(palette.cielab(palette.seen(c, "deuteranopia")) for c in (red, green)))
    assert deutan < typical / 2


def test_star_colours_are_text_on_their_page():
    for page, colors in ((LIGHT_PAGE, STAR_COLORS), (DARK_PAGE, STAR_COLORS_DARK)):
        for stars, color in colors.items():
            assert contrast_ratio(color, page) >= TEXT_CONTRAST, (stars, color, page)
    assert contrast_ratio(style.TEXT_GREY, LIGHT_PAGE) >= TEXT_CONTRAST


def test_graphics_colours_stand_out_on_light_and_dark_pages():
    for name, color in {**PALETTE, **COMPONENT_COLORS}.items():
        for page in (LIGHT_PAGE, DARK_PAGE):
            assert contrast_ratio(color, page) >= GRAPHICS_CONTRAST, (name, color, page)


@pytest.mark.parametrize("name", DRAWN_TOGETHER)
def test_colours_drawn_together_stay_apart_under_every_colour_vision(name):
    difference, first, second, vision = closest_pair(DRAWN_TOGETHER[name].values())
    assert difference >= MIN_DIFFERENCE, (name, first, second, vision, difference)


def test_the_old_star_colours_fail_these_checks():
    assert closest_pair(OKABE_ITO_STARS)[0] < MIN_DIFFERENCE
    assert min(contrast_ratio(c, LIGHT_PAGE) for c in OKABE_ITO_STARS) < TEXT_CONTRAST


def test_the_dark_page_is_the_sites():
    css = (REPO_ROOT / "src/energybench/publish/site/assets/site.css").read_text()
    dark = css[css.index("prefers-color-scheme: dark") :]
    assert re.search(r"--bg: (#\w{6});", dark).group(1).upper() == DARK_PAGE


def site_colours(scheme: str) -> dict[str, str]:
    """site.css's colour custom properties for the light or dark scheme (the dark block
    overrides the light one)."""
    css = (REPO_ROOT / "src/energybench/publish/site/assets/site.css").read_text()
    light, dark = css.split("@media (prefers-color-scheme: dark)", 1)
    colours = dict(re.findall(r"--([\w-]+): (#[0-9a-fA-F]{6});", light))
    if scheme == "dark":
        colours |= dict(re.findall(r"--([\w-]+): (#[0-9a-fA-F]{6});", dark))
    return colours


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sites_controls_and_text_meet_wcag_contrast(scheme):
    """Inputs, selects and tabs are outlined at 3:1 against the page and the panels they sit
    on (WCAG 1.4.11, non-text contrast), and the site's text colours read at 4.5:1 on the
    backgrounds they are drawn on (1.4.3)."""
    colours = site_colours(scheme)
    for ground in ("bg", "surface"):
        ratio = contrast_ratio(colours["control-border"], colours[ground])
        assert ratio >= GRAPHICS_CONTRAST, (scheme, ground, ratio)
        for text in ("fg", "muted", "link"):
            assert contrast_ratio(colours[text], colours[ground]) >= TEXT_CONTRAST, (text, ground)
    for text in ("bad", "good", "warn"):
        assert contrast_ratio(colours[text], colours[f"{text}-bg"]) >= TEXT_CONTRAST, text
    css = (REPO_ROOT / "src/energybench/publish/site/assets/site.css").read_text()
    for control in (".filters input, .filters select {", ".tabs button {"):
        rule = css[css.index(control) :]
        assert "border: 1px solid var(--control-border)" in rule[: rule.index("}")], control
