"""Snakemake script: build the CPU benchmark image and write its id."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "a")

from energybench.run.files import write_atomic  # noqa: E402
from energybench.job.isolation import build_cpu_image  # noqa: E402

image_id = build_cpu_image(
    Path(snakemake.params.repo),
    container_cli=snakemake.wildcards.container_cli,
    log_path=Path(snakemake.log[0]),
)
write_atomic(snakemake.output[0], image_id + "\n")
