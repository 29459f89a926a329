"""Snakemake script: collect the reports into results/tables/models.csv."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.aggregate import write_models_table  # noqa: E402

write_models_table(snakemake.input.reports, snakemake.output.table)  # noqa: F821
