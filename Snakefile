# energybench: one isolated benchmark run per model in config/models.yaml, then tables and figures.
#   snakemake --cores 1 --resources gpu=1          (see README.md)
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/models.smk"
include: "rules/images.smk"
include: "rules/benchmark.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.figures.output,
