"""Snakemake script: bundle the campaign's runs for an AI Energy Score submission."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path  # noqa: E402

from energybench.aes.submission import bundle  # noqa: E402
from energybench.publish.paper.stored import shown_run  # noqa: E402

runs = [shown_run(Path(path)) for path in snakemake.input.reports]
manifest = bundle(runs, snakemake.output.bundle)
print(f"included: {manifest['included']}; skipped: {manifest['skipped']}", file=sys.stderr)
