"""The commands a benchmark executes: `energybench benchmark` (one model's job, which the
workflow's rule runs) and `energybench run` (the run itself, which the job starts in its
process or container).

`energybench` starts here for these two (``energybench.__main__``), and the full command
(energybench.cli: the other per-model steps, the image, AI Energy Score lists, tables,
attempts) adds them to its own parser. So the run's code digest and the engine image hold
the run and job packages with this entry, and editing any other command reruns no
benchmark (energybench.plan.code_digest.RUN_CODE).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from energybench.run.errors import ConfigError

COMMANDS = ("run", "benchmark")


def executes(argv: list[str]) -> bool:
    """Whether ``argv`` (the words after `energybench`) names one of ``COMMANDS``: the first
    word that is no option (`energybench -v run ...`)."""
    return next((word for word in argv if not word.startswith("-")), None) in COMMANDS


def _run(args) -> int:
    from energybench.job.secrets import load_secrets_file
    from energybench.job.workflow_guard import stop_when_launcher_ends
    from energybench.run import benchmark

    load_secrets_file()  # first: the file is deleted as soon as its values are in memory
    stop_when_launcher_ends()
    if args.workdir:
        os.chdir(args.workdir)  # relative model and dataset paths resolve from here
    try:
        config = json.loads(Path(args.config).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        print(f"energybench run: cannot read run config {args.config}: {exc}", file=sys.stderr)
        return 2
    return benchmark.run(config, args.output, args.overrides)


def _benchmark(args) -> int:
    from energybench.job.model_job import run_model_job
    from energybench.job.planned_settings import SettingsMissing, read_planned_settings

    try:
        run_config = read_planned_settings(args.settings)
    except SettingsMissing as exc:
        print(f"energybench benchmark: {exc}", file=sys.stderr)
        return 1
    run_model_job(
        run_config=run_config,
        gpus=args.gpus,
        report_path=args.report,
        log_path=args.log,
        image_id_file=args.image_id_file or None,
    )
    return 0


def add_command(
    commands, name: str, handler, description: str, log_level: int = logging.INFO
) -> argparse.ArgumentParser:
    """A subcommand of `energybench` that ``handler`` carries out, logging at ``log_level``
    unless `-v` asks for more."""
    command = commands.add_parser(name, help=description, description=description)
    command.set_defaults(handler=handler, log_level=log_level)
    return command


def add_step(commands, name: str, handler, description: str) -> argparse.ArgumentParser:
    """A workflow step: its stderr is its rule's log, which gets warnings only."""
    return add_command(commands, name, handler, description, logging.WARNING)


def command_parser(description: str):
    """(the `energybench` parser, its subcommands) with ``COMMANDS`` added."""
    parser = argparse.ArgumentParser(
        prog="energybench",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = add_command(commands, "run", _run, "benchmark one model and write its report")
    run.add_argument("--config", required=True, help="resolved run config (JSON)")
    run.add_argument("--output", required=True, help="path of benchmark_report.json")
    run.add_argument("--workdir", help="directory that relative paths in the config start from")
    run.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="Hydra-style overrides, e.g. scenario.num_samples=20",
    )

    # The workflow's rule gives every argument.
    benchmark = add_step(
        commands,
        "benchmark",
        _benchmark,
        "benchmark one model in its own "
        "process or container (the job layer); a report whatever happens",
    )
    benchmark.add_argument(
        "--settings",
        required=True,
        help="the file of the settings the job was planned with (energybench.plan.planned)",
    )
    benchmark.add_argument(
        "--gpus",
        required=True,
        type=int,
        help="how many GPUs the job takes (its planned resource `gpu`)",
    )
    benchmark.add_argument("--report", required=True, help="path of benchmark_report.json")
    benchmark.add_argument(
        "--log", required=True, help="the job's log (the launcher's lines and the run's)"
    )
    benchmark.add_argument(
        "--image-id-file",
        required=True,
        help="id file of the pipeline-built image to run in (empty: none)",
    )
    return parser, commands


def execute(args: argparse.Namespace) -> int:
    """Carry out the parsed command: its logging set up, a configuration error said in one
    line."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"energybench: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """`energybench run ...` or `energybench benchmark ...`, without the rest of the command."""
    return execute(command_parser(__doc__)[0].parse_args(argv))
