"""Snakemake script: bundle the campaign's runs for an AI Energy Score submission."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.aes.submission import bundle  # noqa: E402

manifest = bundle(snakemake.input.reports, snakemake.output.bundle)  # noqa: F821
print(f"included: {manifest['included']}; skipped: {manifest['skipped']}", file=sys.stderr)
