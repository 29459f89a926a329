"""Snakemake script: the models.yaml an AES model list (models_csv) resolves to, as a record."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from energybench.plan.aes_model_list import import_model_list  # noqa: E402

result = import_model_list(
    snakemake.input.csv,
    snakemake.output.models,
    snakemake.params.skip_invalid,
    snakemake.params.aes_reasoning,
)
for notice in result.notices:
    print(notice, file=sys.stderr)
for problem in result.problems:
    print(f"skipped {problem}", file=sys.stderr)
