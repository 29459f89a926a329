"""Snakemake script: the static leaderboard site, results/site/."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from energybench.publish.site import build_site  # noqa: E402

inputs = snakemake.input
# Each model's SVG label and PNG timeline are the rule's unnamed inputs (rules/site.smk).
named = {
    path for _, paths in inputs.items() for path in ([paths] if isinstance(paths, str) else paths)
}
drawn = [path for path in inputs if path not in named]
build_site(
    inputs.collection,
    snakemake.output.site,
    ratings=inputs.ratings,
    labels=[path for path in drawn if path.endswith(".svg")],
    figures=[path for path in drawn if path.endswith(".png")],
    comparisons=inputs.comparisons,
    methodology=inputs.methodology,
)
