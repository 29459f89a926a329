"""Snakemake script: star ratings (and this set's calibration) from the reports."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.publish.paper.build import build_ratings  # noqa: E402

build_ratings(
    snakemake.input.collection,
    snakemake.output.ratings,
    snakemake.output.calibration,
    snakemake.input.frozen[0] if snakemake.input.frozen else None,
)
