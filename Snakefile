# energybench: one isolated benchmark run per model in config/models.yaml, then tables, figures
# and the static leaderboard site.
#   snakemake --cores 1 --resources gpu=1          (see README.md)
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# This checkout's energybench, not whichever copy is installed, runs the rules and the jobs, so
# the code a report records (its git commit) is the code that ran.
PACKAGE_SRC = os.path.join(workflow.basedir, "src")
# A plan writes nothing into the project (.snakemake/, Snakemake's own records, excepted), not
# even the bytecode of the modules it imports.
sys.pycache_prefix = sys.pycache_prefix or os.path.join(
    os.path.expanduser("~"), ".cache", "energybench", "pycache"
)
sys.path.insert(0, PACKAGE_SRC)
from energybench.job.environment import put_first_on_pythonpath

put_first_on_pythonpath(PACKAGE_SRC)

# Read here first: Snakemake's own loader names neither the file nor the line of a YAML
# error, and fails with a traceback on text that is not UTF-8.
from energybench.plan.config import exit_on_unreadable_yaml

exit_on_unreadable_yaml("config/config.yaml")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


# Paper mode (`--config paper=true`, PAPER_ONLY in rules/common.smk) remakes the paper outputs
# from the reports already stored and must never start a benchmark: without the benchmark
# rules the reports are plain inputs.
if not PAPER_ONLY:

    include: "rules/models.smk"
    include: "rules/images.smk"
    include: "rules/benchmark.smk"
    include: "rules/campaign.smk"


include: "rules/aggregate.smk"
include: "rules/site.smk"


rule all:
    default_target: True
    input:
        # Each report by name: the tables and the site read the collection of reports, and
        # Snakemake does not remake the missing input of an existing collection on its own.
        report_paths(),
        PAPER_OUTPUTS,
        rules.aes_models.output if config["models_csv"] else [],
        rules.site.output,
