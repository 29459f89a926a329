"""Snakemake script: one comparison figure, as PNG and PDF."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.publish.paper.build import build_figure  # noqa: E402

build_figure(
    snakemake.params.figure,
    snakemake.input.collection,
    [snakemake.output.png, snakemake.output.pdf],
    snakemake.input.ratings or None,
)
