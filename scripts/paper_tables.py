"""Snakemake script: every table under results/tables/ from the reports."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.publish.paper.build import build_tables  # noqa: E402

build_tables(
    snakemake.input.collection,
    snakemake.input.ratings,
    dict(snakemake.output.items()),
)
