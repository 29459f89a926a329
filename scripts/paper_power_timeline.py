"""Snakemake script: one run's power timeline figure, as PNG and PDF."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.paper.build import build_run_figure  # noqa: E402

build_run_figure(snakemake.input.report, snakemake.params.timeline,  # noqa: F821
                 [snakemake.output.png, snakemake.output.pdf])  # noqa: F821
