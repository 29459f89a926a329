"""Snakemake script: AI Energy Score's master_results.csv from the reports."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from energybench.publish.paper.build import build_master_results  # noqa: E402

build_master_results(snakemake.input.collection, snakemake.output.table)
