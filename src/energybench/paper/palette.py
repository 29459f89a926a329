"""The colours of every figure, label and the leaderboard site (importable without matplotlib).

Okabe and Ito's colour-blind-safe set, every colour of mid luminance, so it reads on a white
page and on a dark one.
"""

PALETTE = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
COMPONENT_COLORS = {"gpu": PALETTE["green"], "cpu": PALETTE["orange"], "ram": PALETTE["blue"]}
COMPONENT_LABELS = {"gpu": "GPU", "cpu": "CPU", "ram": "RAM"}
# 5 stars (lowest energy) to 1 star; "unrated" for models without a rating.
STAR_COLORS = {5: PALETTE["green"], 4: PALETTE["sky_blue"], 3: PALETTE["yellow"],
               2: PALETTE["orange"], 1: PALETTE["vermillion"], None: PALETTE["grey"]}
