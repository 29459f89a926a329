"""Snakemake script: every report, read and validated once, into one collection file."""

import logging
import sys

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.publish.paper.stored import write_collection  # noqa: E402

write_collection(snakemake.input.reports, snakemake.output.collection)
