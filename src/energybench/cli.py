"""The `energybench` command: one model's run, the workflow's per-model steps, the CPU image,
AI Energy Score lists, merged tables and a model's attempts.

The commands a benchmark executes (`run`, `benchmark`) are energybench.job.entry's, added to
this parser: they start without this module, which is no part of the run's code digest or
image, so editing a command here reruns no benchmark. Installed, it is the `energybench`
console script (``energybench.__main__``); `python -m energybench` is the same
command, and so is `python <checkout>/src/energybench`, which the workflow's rules print
(``rule_command``): a command a person can rerun by hand, running this checkout's code.
Each handler only translates its arguments and calls one function.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from energybench.job.entry import add_command, add_step, command_parser, execute


def rule_command(package_dir: str, in_conda_env: bool) -> str:
    """The start of each `shell:` rule's command: this checkout's package, run as a folder
    (``__main__`` then imports it before any installed copy), by the interpreter Snakemake
    runs a ``script:`` job with: its own, or the conda environment's `python`, which
    Snakemake puts first on PATH (and a job outside conda must not take from PATH)."""
    python = "python" if in_conda_env else _relative_if_inside(sys.executable)
    return f"{shlex.quote(python)} {shlex.quote(package_dir)}"


def _relative_if_inside(path: str) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith(os.pardir) else path


def _tiny_model(args) -> int:
    from energybench.job.tiny_models import build_tiny

    build_tiny(args.output, json.loads(args.spec))
    return 0


def _aes_run_files(args) -> int:
    from energybench.aes.submission import write_run_files
    from energybench.publish.paper.stored import shown_run

    report, _ = shown_run(Path(args.report))
    if report.note:
        print(f"energybench aes-run-files: {args.report}: {report.note}", file=sys.stderr)
    write_run_files(report, Path(args.run_dir))
    return 0


def _build_image(args) -> int:
    from energybench.job.isolation import ImageBuildError, build_cpu_image
    from energybench.run.files import write_atomic

    try:
        image_id = build_cpu_image(args.repo_root, args.tag, args.container_cli, args.log)
    except ImageBuildError as error:
        print(f"energybench build-image: {error}", file=sys.stderr)
        return 1
    if args.id_file:
        write_atomic(args.id_file, image_id + "\n")
    print(image_id)
    return 0


def _import_aes(args) -> int:
    from energybench.plan.aes_model_list import import_model_list

    result = import_model_list(args.csv, args.output, args.skip_invalid, args.aes_reasoning)
    for notice in result.notices:
        print(f"energybench import-aes: {args.csv}: {notice}", file=sys.stderr)
    for problem in result.problems:
        print(f"energybench import-aes: {args.csv}: {problem}", file=sys.stderr)
    if result.problems and not args.skip_invalid:
        print(
            f"energybench import-aes: {len(result.problems)} problem(s); nothing written "
            "(--skip-invalid imports the usable rows)",
            file=sys.stderr,
        )
        return 2
    skipped = len({p.row for p in result.problems})
    print(
        f"energybench import-aes: {len(result.models)} model(s) written to {args.output}"
        + (f"; {skipped} row(s) skipped" if skipped else ""),
        file=sys.stderr,
    )
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
    print(
        f"energybench restore: {report} is {attempt} again; the next workflow run remakes "
        f"what is made of it, and keeps it until you rerun the model "
        f"(snakemake --forcerun {report})",
        file=sys.stderr,
    )
    return 0


def _add_workflow_steps(commands) -> None:
    """The commands of the workflow's other rules with a job per model; every argument
    required, as a rule gives them all."""
    tiny = add_step(commands, "tiny-model", _tiny_model, "build one tiny random-weight model")
    tiny.add_argument("--spec", required=True, help="its settings (JSON: the model's `tiny`)")
    tiny.add_argument("--output", required=True, help="the model's directory")

    aes = add_step(
        commands,
        "aes-run-files",
        _aes_run_files,
        "write AI Energy Score's GPU_ENERGY_WH.txt and GPU_ENERGY_SUMMARY.json of one run",
    )
    aes.add_argument("--report", required=True, help="the run's report")
    aes.add_argument("--run-dir", required=True, help="where the two files go")


def build_parser() -> argparse.ArgumentParser:
    from energybench.job.isolation.spec import CONTAINER_RUNTIMES, CPU_IMAGE_TAG, DOCKER
    from energybench.run.settings import AES_REASONING

    parser, commands = command_parser(__doc__)
    _add_workflow_steps(commands)

    image = add_command(
        commands,
        "build-image",
        _build_image,
        "build the registry-free CPU benchmark image; print its id",
    )
    image.add_argument("--container-cli", default=DOCKER, choices=CONTAINER_RUNTIMES)
    image.add_argument("--tag", default=CPU_IMAGE_TAG)
    image.add_argument(
        "--repo-root",
        type=Path,
        default=Path.cwd(),
        help="the checkout the image installs energybench from",
    )
    image.add_argument("--id-file", type=Path, help="write the image id here (atomically)")
    image.add_argument("--log", type=Path, help="append the build's output here")

    aes = add_command(
        commands,
        "import-aes",
        _import_aes,
        "turn an AI Energy Score model list (CSV) into a models.yaml",
    )
    aes.add_argument("csv", help="the AES model list, e.g. oct_2025_models.csv")
    aes.add_argument("-o", "--output", required=True, help="the models.yaml to write")
    aes.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the usable rows even when others have problems",
    )
    aes.add_argument(
        "--aes-reasoning",
        choices=AES_REASONING,
        default=AES_REASONING[0],
        help="effective: each row as AES's runner runs it (default); stated: as "
        "its reasoning state says (docs/aes.md)",
    )

    merge = add_command(
        commands,
        "merge-tables",
        _merge_tables,
        "merge the tables of several result directories (e.g. master_results.csv) into one",
    )
    merge.add_argument(
        "output",
        help="the merged table; its name picks the table of each "
        "results directory, e.g. merged/master_results.csv",
    )
    merge.add_argument("sources", nargs="+", help="results directories or CSV files")

    listing = add_command(
        commands, "attempts", _attempts, "list a model's attempts (the published one marked *)"
    )
    listing.add_argument("model_dir", help="the model's run directory, results/runs/<model>")

    restore = add_command(
        commands,
        "restore",
        _restore,
        "publish an earlier attempt of a "
        "model again, e.g. its last good report after a failed rerun",
    )
    restore.add_argument("model_dir", help="the model's run directory, results/runs/<model>")
    restore.add_argument("attempt", help="the attempt's name in its history/ (see attempts)")
    return parser


def main(argv: list[str] | None = None) -> int:
    return execute(build_parser().parse_args(argv))
