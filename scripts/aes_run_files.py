"""Snakemake script: AI Energy Score's GPU_ENERGY_WH.txt and GPU_ENERGY_SUMMARY.json of one run."""
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.aes.submission import write_run_files  # noqa: E402

write_run_files(snakemake.input.report, Path(snakemake.output.wh).parent)  # noqa: F821
