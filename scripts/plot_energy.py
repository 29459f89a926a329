"""Snakemake script: the energy-per-1,000-queries figure, as PNG and PDF."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.plots import plot_energy_per_1000_queries  # noqa: E402

plot_energy_per_1000_queries(snakemake.input.table, [snakemake.output.png, snakemake.output.pdf])  # noqa: F821
