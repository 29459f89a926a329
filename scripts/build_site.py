"""Snakemake script: the static leaderboard site, results/site/."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.publish.site import build_site  # noqa: E402

build_site(snakemake.input.collection, snakemake.output.site,  # noqa: F821
           ratings=snakemake.input.ratings, labels=snakemake.input.labels,  # noqa: F821
           figures=snakemake.input.timelines,  # noqa: F821
           comparisons=snakemake.input.comparisons,  # noqa: F821
           methodology=snakemake.input.methodology)  # noqa: F821
