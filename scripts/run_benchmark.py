"""Snakemake script: benchmark one model in its own process (or container).

The launcher owns the log: it writes its own lines and hands the same file to the run.
"""
from energybench.job import run_model_job

run_model_job(
    run_config=snakemake.params.run_config,  # noqa: F821 (snakemake is injected)
    report_path=snakemake.output.report,  # noqa: F821
    log_path=snakemake.log[0],  # noqa: F821
    image_id_file=snakemake.input.get("image_id"),  # noqa: F821
    workflow_dir=snakemake.scriptdir + "/..",  # noqa: F821
)
