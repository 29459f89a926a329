"""Snakemake script: the models.yaml an AES model list (models_csv) resolves to, as a record."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)

from energybench.aes.model_list import import_model_list  # noqa: E402

result = import_model_list(  # noqa: F821
    snakemake.input.csv, snakemake.output.models, snakemake.params.skip_invalid  # noqa: F821
)
for problem in result.problems:
    print(f"skipped {problem}", file=sys.stderr)
