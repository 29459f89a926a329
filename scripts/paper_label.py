"""Snakemake script: one model's energy label, as SVG and PNG."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.paper.build import build_label  # noqa: E402

build_label(snakemake.input.report, snakemake.input.ratings,  # noqa: F821
            [snakemake.output.svg, snakemake.output.png])  # noqa: F821
