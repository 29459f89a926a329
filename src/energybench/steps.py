"""The workflow's per-model steps as commands: ``python -m energybench.steps <step> ...``.

The rules with a job per model (build a tiny model, run a benchmark, write AI Energy Score's
two files of a run) are ``shell:`` commands calling
this module, not ``script:`` rules: before scheduling, Snakemake reads and checks the script
of every ``script:`` job (about 0.2 ms a job; docs/PERFORMANCE.md section 2). The rules with
one job (tables, figures, every label and power timeline, the site) stay ``script:`` rules.

Each step only translates its arguments and calls one function; what it computes lives in the
modules whose code digests are the jobs' inputs. This module is outside the run's digest
(``code_digest.RUN_CODE``: editing how a step hands its arguments on reruns no
benchmark) and outside the image, but inside the digest of the AES run files step
(``step_code_digest`` in rules/common.smk), which is cheap to remake. A
step's stderr is its rule's log (the command redirects it), except the benchmark's, whose job
layer owns its log. To rerun a failed step by hand, run the command Snakemake printed with
ENERGYBENCH_SRC and ENERGYBENCH_PYTHON set (``step_environment``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


# The start of each step's command in the rules. It names no path: the workflow puts the
# interpreter and this checkout's src in the environment when it is parsed (step_environment),
# so moving the checkout or the interpreter leaves the rules' text, which Snakemake compares
# to rerun jobs, as it is. Under `--sdm conda` Snakemake starts a command without PYTHONPATH,
# so the command puts src back first.
STEP_COMMAND = ('PYTHONPATH="${ENERGYBENCH_SRC:?see energybench.steps}${PYTHONPATH:+:$PYTHONPATH}" '
                '"${ENERGYBENCH_PYTHON:?see energybench.steps}" -m energybench.steps')


def step_environment(package_src: str, in_conda_env: bool) -> dict[str, str]:
    """What STEP_COMMAND reads: this checkout's src, and the interpreter Snakemake runs a
    ``script:`` job with (its own, or the conda environment's ``python``)."""
    return {"ENERGYBENCH_SRC": package_src,
            "ENERGYBENCH_PYTHON": "python" if in_conda_env else sys.executable}


def _tiny_model(args) -> None:
    from energybench.job.tiny_models import build_tiny

    build_tiny(args.output, json.loads(args.spec))


def _benchmark(args) -> None:
    from energybench.job.model_job import run_model_job
    from energybench.plan.planned import SettingsMissing, read_planned_settings

    try:
        run_config = read_planned_settings(args.settings)
    except SettingsMissing as exc:
        sys.exit(f"energybench: {exc}")
    run_model_job(run_config=run_config, gpus=int(args.gpus), report_path=args.report,
                  log_path=args.log, image_id_file=args.image_id_file or None)


def _aes_run_files(args) -> None:
    from energybench.aes.submission import write_run_files

    write_run_files(args.report, Path(args.run_dir))


# Each step: its handler, what it does, and its arguments (all required) with what each is.
STEPS = {
    "tiny-model": (_tiny_model, "build one tiny random-weight model", {
        "--spec": "its settings (JSON: the model's `tiny`)", "--output": "the model's directory"}),
    "benchmark": (_benchmark, "benchmark one model in its own process or container; a report "
                  "whatever happens", {
        "--settings": "the file of the settings the job was planned with "
                      "(energybench.plan.planned)",
        "--gpus": "how many GPUs the job takes (its planned resource `gpu`)",
        "--report": "path of benchmark_report.json",
        "--log": "the job's log (the launcher's lines and the run's)",
        "--image-id-file": "id file of the pipeline-built image to run in (empty: none)"}),
    "aes-run-files": (_aes_run_files, "AI Energy Score's GPU_ENERGY_WH.txt and "
                      "GPU_ENERGY_SUMMARY.json of one run", {
        "--report": "the run's report", "--run-dir": "where the two files go"}),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m energybench.steps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    for name, (handler, description, arguments) in STEPS.items():
        step = steps.add_parser(name, help=description)
        for flag, meaning in arguments.items():
            step.add_argument(flag, required=True, help=meaning)
        step.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
