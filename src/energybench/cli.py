"""The `energybench` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from energybench.run.errors import ConfigError


def _run(args) -> int:
    import os

    from energybench.run import benchmark
    from energybench.job.secrets import load_secrets_file
    from energybench.job.workflow_guard import stop_when_launcher_ends

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


def _import_aes(args) -> int:
    from energybench.plan.aes_model_list import import_model_list

    result = import_model_list(args.csv, args.output, args.skip_invalid, args.aes_reasoning)
    for notice in result.notices:
        print(f"energybench import-aes: {args.csv}: {notice}", file=sys.stderr)
    for problem in result.problems:
        print(f"energybench import-aes: {args.csv}: {problem}", file=sys.stderr)
    if result.problems and not args.skip_invalid:
        print(f"energybench import-aes: {len(result.problems)} problem(s); nothing written "
              "(--skip-invalid imports the usable rows)", file=sys.stderr)
        return 2
    skipped = len({p.row for p in result.problems})
    print(f"energybench import-aes: {len(result.models)} model(s) written to {args.output}"
          + (f"; {skipped} row(s) skipped" if skipped else ""), file=sys.stderr)
    return 0


def _merge_tables(args) -> int:
    from energybench.publish.merge import merge_tables

    rows = merge_tables(args.output, args.sources)
    print(f"energybench merge-tables: {rows} row(s) written to {args.output}", file=sys.stderr)
    return 0


def _attempts(args) -> int:
    from energybench.job import history

    for line in history.describe(args.model_dir):
        print(line)
    return 0


def _restore(args) -> int:
    from energybench.job import history

    try:
        attempt = history.restore(args.model_dir, args.attempt)
    except FileNotFoundError as exc:
        print(f"energybench restore: {exc}", file=sys.stderr)
        return 2
    report = Path(args.model_dir, "benchmark_report.json")
    print(f"energybench restore: {report} is {attempt} again; the next workflow run remakes "
          f"what is made of it, and keeps it until you rerun the model "
          f"(snakemake --forcerun {report})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from energybench.plan.aes_model_list import AES_REASONING

    parser = argparse.ArgumentParser(prog="energybench", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="benchmark one model and write its report")
    run.add_argument("--config", required=True, help="resolved run config (JSON)")
    run.add_argument("--output", required=True, help="path of benchmark_report.json")
    run.add_argument("--workdir", help="directory that relative paths in the config start from")
    run.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                     help="Hydra-style overrides, e.g. scenario.num_samples=20")
    run.set_defaults(handler=_run)

    aes = commands.add_parser("import-aes", help="turn an AI Energy Score model list (CSV) "
                              "into a models.yaml")
    aes.add_argument("csv", help="the AES model list, e.g. oct_2025_models.csv")
    aes.add_argument("-o", "--output", required=True, help="the models.yaml to write")
    aes.add_argument("--skip-invalid", action="store_true",
                     help="import the usable rows even when others have problems")
    aes.add_argument("--aes-reasoning", choices=AES_REASONING, default=AES_REASONING[0],
                     help="effective: each row as AES's runner runs it (default); stated: as "
                     "its reasoning state says (docs/aes.md)")
    aes.set_defaults(handler=_import_aes)

    merge = commands.add_parser("merge-tables", help="merge the tables of several result "
                                "directories (e.g. master_results.csv) into one")
    merge.add_argument("output", help="the merged table; its name picks the table of each "
                       "results directory, e.g. merged/master_results.csv")
    merge.add_argument("sources", nargs="+", help="results directories or CSV files")
    merge.set_defaults(handler=_merge_tables)

    listing = commands.add_parser("attempts", help="list a model's attempts (the published "
                                  "one marked *)")
    listing.add_argument("model_dir", help="the model's run directory, results/runs/<model>")
    listing.set_defaults(handler=_attempts)

    restore = commands.add_parser("restore", help="publish an earlier attempt of a model "
                                  "again, e.g. its last good report after a failed rerun")
    restore.add_argument("model_dir", help="the model's run directory, results/runs/<model>")
    restore.add_argument("attempt", help="the attempt's name in its history/ (see attempts)")
    restore.set_defaults(handler=_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per request
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"energybench: {exc}", file=sys.stderr)
        return 2
