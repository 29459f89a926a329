"""Snakemake script: bundle the campaign's runs for an AI Energy Score submission."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from pathlib import Path  # noqa: E402

from energybench.aes.submission import bundle  # noqa: E402
from energybench.publish.paper.stored import shown_run  # noqa: E402

runs = [shown_run(Path(path)) for path in snakemake.input.reports]  # noqa: F821
manifest = bundle(runs, snakemake.output.bundle)  # noqa: F821
print(f"included: {manifest['included']}; skipped: {manifest['skipped']}", file=sys.stderr)
