"""The colours of every figure, label and the leaderboard site (importable without matplotlib),
and the computations that show they work for everyone.

WCAG 2.1 AA asks text to stand 4.5:1 against its page and graphics 3:1. ``PALETTE`` (Okabe
and Ito's colour-blind-safe hues, the light ones darkened) is for graphics: each colour is of
mid luminance and stands 3:1 against a white page and the site's dark one. The star colours
are also text (the energy figure's "4 ★", the site's stars), so they stand 4.5:1 against
their page: ``STAR_COLORS`` against white (figures, labels, the site's light scheme),
``STAR_COLORS_DARK`` against the site's dark scheme.

The star colours, and the components', stay apart for people with colour-vision deficiency:
simulated for protanopia, deuteranopia and tritanopia (Machado, Oliveira and Fernandes 2009,
full severity, in linear RGB), every two still differ by at least ``MIN_DIFFERENCE`` in
CIEDE2000 (2 to 3 is noticed side by side; a figure's marks are small and apart, so we ask
several times that). The star colours were found by a search over sRGB for the largest such
difference (about 15), with 5 stars blue and 1 star red; tests/paper/test_palette.py checks it.
"""

from __future__ import annotations

import itertools
import math

LIGHT_PAGE = "#FFFFFF"
DARK_PAGE = "#121417"  # the site's dark scheme (--bg in site/assets/site.css)
TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, 1.4.3: text
GRAPHICS_CONTRAST = 3.0  # WCAG 2.1 AA, 1.4.11: graphical objects
MIN_DIFFERENCE = 12.0  # CIEDE2000, under every simulated vision

PALETTE = {
    "orange": "#C38600",
    "sky_blue": "#499AC8",
    "green": "#009E73",
    "yellow": "#9D9528",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
}
COMPONENT_COLORS = {"gpu": PALETTE["green"], "cpu": PALETTE["orange"], "ram": PALETTE["blue"]}
COMPONENT_LABELS = {"gpu": "GPU", "cpu": "CPU", "ram": "RAM"}
# 5 stars (lowest energy) to 1 star; "unrated" for models without a rating.
STAR_COLORS = {
    5: "#005599",
    4: "#7755FF",
    3: "#554455",
    2: "#DD2200",
    1: "#992233",
    None: "#707070",
}
# A label's header bar and stars, one colour whatever the rating, as AI Energy Score's label
# has it; white text on it and it on white both stand 4.5:1.
LABEL_COLOR = STAR_COLORS[5]
STAR_COLORS_DARK = {
    5: "#0088BB",
    4: "#44CCFF",
    3: "#CCBB99",
    2: "#EE9900",
    1: "#EE3355",
    None: "#9A9A9A",
}

# Machado et al. 2009, severity 1.0: linear RGB to linear RGB as each dichromat sees it.
VISION_DEFICIENCIES = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
SRGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
D65_WHITE = (0.95047, 1.0, 1.08883)


def linear_rgb(color: str) -> tuple[float, float, float]:
    """``#RRGGBB`` as linear-light RGB, each channel 0 to 1 (the sRGB curve undone)."""
    channels = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return tuple(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two colours, 1 to 21."""
    lighter, darker = sorted(
        (relative_luminance(linear_rgb(c)) for c in (first, second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def relative_luminance(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def seen(color: str, vision: str | None) -> tuple[float, float, float]:
    """The linear RGB someone with ``vision`` (a VISION_DEFICIENCIES name; None: typical)
    sees for ``color``, clipped to the displayable range."""
    rgb = linear_rgb(color)
    if vision is None:
        return rgb
    return tuple(
        min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb))))
        for row in VISION_DEFICIENCIES[vision]
    )


def cielab(rgb) -> tuple[float, float, float]:
    """Linear RGB as CIELAB (D65)."""
    xyz = (
        sum(m * c for m, c in zip(row, rgb)) / white for row, white in zip(SRGB_TO_XYZ, D65_WHITE)
    )
    x, y, z = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in xyz)
    return 116 * y - 16, 500 * (x - y), 200 * (y - z)


def ciede2000(first, second) -> float:
    """The CIEDE2000 colour difference of two CIELAB colours (Sharma, Wu and Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = first, second
    mean_chroma = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(mean_chroma**7 / (mean_chroma**7 + 25**7)))
    c1, c2 = math.hypot((1 + g) * a1, b1), math.hypot((1 + g) * a2, b2)
    h1 = math.degrees(math.atan2(b1, (1 + g) * a1)) % 360 if c1 else 0.0
    h2 = math.degrees(math.atan2(b2, (1 + g) * a2)) % 360 if c2 else 0.0
    turn = h2 - h1
    if c1 * c2 == 0:
        turn = 0.0
    elif turn > 180:
        turn -= 360
    elif turn < -180:
        turn += 360
    delta_hue = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(turn / 2))
    mean_l, mean_c = (l1 + l2) / 2, (c1 + c2) / 2
    mean_h = h1 + h2
    if c1 * c2 != 0:
        mean_h = (
            (h1 + h2) / 2
            if abs(h1 - h2) <= 180
            else (h1 + h2 + 360) / 2
            if h1 + h2 < 360
            else (h1 + h2 - 360) / 2
        )
    t = (
        1
        - 0.17 * math.cos(math.radians(mean_h - 30))
        + 0.24 * math.cos(math.radians(2 * mean_h))
        + 0.32 * math.cos(math.radians(3 * mean_h + 6))
        - 0.20 * math.cos(math.radians(4 * mean_h - 63))
    )
    rotation = 30 * math.exp(-(((mean_h - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(mean_c**7 / (mean_c**7 + 25**7))
    s_l = 1 + 0.015 * (mean_l - 50) ** 2 / math.sqrt(20 + (mean_l - 50) ** 2)
    s_c, s_h = 1 + 0.045 * mean_c, 1 + 0.015 * mean_c * t
    r_t = -math.sin(math.radians(2 * rotation)) * r_c
    lightness, chroma, hue = (l2 - l1) / s_l, (c2 - c1) / s_c, delta_hue / s_h
    return math.sqrt(lightness**2 + chroma**2 + hue**2 + r_t * chroma * hue)


def closest_pair(colors) -> tuple[float, str, str, str]:
    """The smallest CIEDE2000 difference between two of ``colors`` under typical vision or
    any simulated deficiency: (difference, one colour, the other, the vision)."""
    visions = [None, *VISION_DEFICIENCIES]
    return min(
        (ciede2000(cielab(seen(a, vision)), cielab(seen(b, vision))), a, b, vision or "typical")
        for vision in visions
        for a, b in itertools.combinations(colors, 2)
    )
