"""Snakemake script: build one tiny random-weight model."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.tiny import build_tiny_model  # noqa: E402

build_tiny_model(snakemake.output[0], **snakemake.params.spec)  # noqa: F821
