"""Planning time of the workflow against a bare Snakefile with the same jobs, by model count.

    python bench/plan_scale.py [--models 10 100 1000 3000] [--aes-rows 1000] [--repetitions 3]
    python bench/plan_scale.py --profile 1000
    python bench/plan_scale.py --models 1000 --checkout /tmp/old   # another commit's workflow

For each count it writes N tiny models into a scratch copy of the workflow's models.yaml and
times `snakemake -n` (a dry run: parse, validate, build the DAG, check inputs) on it and on a
bare Snakefile with the same jobs (as the workflow's `all` has them: per model, build the tiny
model and run it; one job drawing every label and power timeline; one aggregate), nothing
else, interleaved.
Then the same for an AI Energy Score model list of --aes-rows rows run directly
(`--config models_csv=...`: hub models, so no build job; the bare file drops it too).
It prints, per count, the medians and min-max of the wall time and of the CPU time (user +
system of the dry run's process: steadier than wall time on a shared machine), the ratio per
repetition of each, and how each grows with N.
Targets (issues 15, 19, 20): at most 1.6x the bare Snakefile at 1,000 models, no worse than
linear.
--profile N profiles both dry runs at N models (cProfile) and prints where each spends its
time, side by side, with the number of job inputs Snakemake resolves.
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = [
    "Snakefile",
    "rules",
    "scripts",
    "config",
    "data",
    "envs",
    "src",
    "profiles",
    "containers",
    "requirements",
    "pyproject.toml",
    ".dockerignore",
    "report",
    "docs",
]  # docs: the site's methodology page is made of two of them

BARE_SNAKEFILE = """
MODELS = [f"m{i}" for i in range(int(config["count"]))]
BUILD = int(config["build"])  # a build job per model (tiny models), or none (hub models)


rule all:
    input:
        "results/tables/models.csv",


rule model:
    output:
        directory("resources/models/{model}"),
    shell:
        "mkdir -p {output}"


rule benchmark:
    input:
        "data/prompts.jsonl",
        "resources/models/{model}" if BUILD else [],
    output:
        "results/runs/{model}/benchmark_report.json",
    shell:
        "touch {output}"


rule labels_and_timelines:
    input:
        expand("results/runs/{model}/benchmark_report.json", model=MODELS),
    output:
        expand("results/paper/runs/{model}/power.png", model=MODELS),
        expand("results/paper/labels/{model}.png", model=MODELS),
    shell:
        "touch {output}"


rule aggregate:
    input:
        expand("results/runs/{model}/benchmark_report.json", model=MODELS),
        expand("results/paper/runs/{model}/power.png", model=MODELS),
        expand("results/paper/labels/{model}.png", model=MODELS),
    output:
        "results/tables/models.csv",
    shell:
        "touch {output}"
"""
AES_HEADER = ",Models to Add,Priority (1=hi),Class,Task,Reasoning State,Chat Template\n"

# Snakemake's phases of a dry run, for --profile: (label, function as pstats names it).
PHASES = [
    ("whole dry run", "snakemake/cli.py", "main"),
    ("parse the Snakefile (our Python: config, models)", "Snakefile", "<module>"),
    ("  of which load_model_table", "common.smk", "load_model_table"),
    ("build the DAG", "snakemake/workflow.py", "_build_dag"),
    ("  resolve each job input's producer", "snakemake/dag.py", "collect_potential_dependencies"),
    ("  make the jobs (inputs, params, resources)", "snakemake/dag.py", "new_job"),
    ("  postprocess", "snakemake/dag.py", "postprocess"),
    ("    read each script: rule's file, per job", "snakemake/script/__init__.py", "get_source"),
    ("schedule and print the jobs", "snakemake/scheduling/job_scheduler.py", "schedule"),
    ("  print each job (resources, file lists)", "snakemake/jobs.py", "log_info"),
]


def models_document(count: int) -> dict:
    """`count` tiny models (each also needs its build job, as the shipped models do)."""
    return {
        "models": {
            f"tiny-{i}": {
                "tiny": {
                    "hidden_size": 128,
                    "num_layers": 2,
                    "num_heads": 2,
                    "vocab_size": 512,
                    "seed": i,
                }
            }
            for i in range(count)
        }
    }


def aes_list(count: int) -> str:
    """An AI Energy Score model list of `count` usable rows (hub models, classes and
    priorities varied, some with reasoning settings)."""
    rows = []
    for i in range(count):
        state, template = (
            ("On (High)", '"reasoning: True\nreasoning_params:\n  reasoning_effort: high"')
            if i % 4 == 0
            else ("Off", "N/A")
        )
        rows.append(
            f",https://huggingface.co/org/model-{i:05d},{1 + i % 3},{'ABC'[i % 3]},text_gen,"
            f"{state},{template}\n"
        )
    return AES_HEADER + "".join(rows)


def copy_checkout(names: list[str], target: Path, checkout: Path = REPO) -> Path:
    """A scratch copy of the named files and folders of this checkout (or of ``checkout``)."""
    target.mkdir(parents=True)
    for name in names:
        source = checkout / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def prepare(
    root: Path, count: int, aes: bool = False, checkout: Path = REPO
) -> tuple[tuple[Path, list], tuple[Path, list]]:
    """(a copy of ``checkout``'s workflow, its extra arguments), and the same for the bare
    Snakefile."""
    name = f"{'aes' if aes else 'models'}-{count}"
    ours = copy_checkout(WORKFLOW_FILES, root / f"ours-{name}", checkout)
    if aes:
        (ours / "aes_list.csv").write_text(aes_list(count))
        ours_args = ["--config", "models_csv=aes_list.csv"]
    else:
        (ours / "config/models.yaml").write_text(yaml.safe_dump(models_document(count)))
        ours_args = []
    bare = root / f"bare-{name}"
    (bare / "data").mkdir(parents=True)
    shutil.copy2(REPO / "data/prompts.jsonl", bare / "data/prompts.jsonl")
    (bare / "Snakefile").write_text(BARE_SNAKEFILE)
    return (ours, ours_args), (bare, ["--config", f"count={count}", f"build={int(not aes)}"])


def dry_run_command(extra: list[str]) -> list[str]:
    return ["-m", "snakemake", "all", "-n", "--cores", "1", "--quiet", "progress", *extra]


def dry_run(workdir: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one dry run."""
    command = dry_run_command(extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *command], cwd=workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"snakemake -n failed in {workdir}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


PROFILER = """
import cProfile, runpy, sys
sys.argv = ["snakemake", *sys.argv[2:]]
profiler = cProfile.Profile()
try:
    profiler.runcall(runpy.run_module, "snakemake", run_name="__main__")
except SystemExit:
    pass
profiler.dump_stats(OUT)
"""


def profiled(workdir: Path, extra: list[str], out: Path) -> pstats.Stats:
    """A dry run under cProfile (its wall clock: a CPU-time clock is a system call per event
    and multiplies the profile's overhead)."""
    script = PROFILER.replace("OUT", repr(str(out)))
    subprocess.run(
        [sys.executable, "-c", script, "snakemake", *dry_run_command(extra)[2:]],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return pstats.Stats(str(out))


def phase_seconds(stats: pstats.Stats, path_part: str, function: str) -> tuple[float, int]:
    """Cumulative CPU seconds and calls of the functions matching ``path_part``/``function``."""
    matches = [
        (ct, nc)
        for (path, _, name), (_, nc, _, ct, _) in stats.stats.items()
        if name == function and path_part in path
    ]
    return max(matches, default=(0.0, 0))


def profile(root: Path, count: int) -> None:
    (ours, ours_args), (bare, bare_args) = prepare(root, count)
    runs = {
        "ours": profiled(ours, ours_args, root / "ours.prof"),
        "bare": profiled(bare, bare_args, root / "bare.prof"),
    }
    print(f"`snakemake -n` at {count} models under cProfile, seconds (calls):")
    print(f"  {'':52s} {'ours':>16s} {'bare':>16s}")
    for label, path_part, function in PHASES:
        cells = []
        for stats in runs.values():
            seconds, calls = phase_seconds(stats, path_part, function)
            cells.append(f"{seconds:7.2f} ({calls:6d})" if calls else f"{'-':>16s}")
        print(f"  {label:52s} {cells[0]:>16s} {cells[1]:>16s}")
    print("\nours, top functions by cumulative time:")
    runs["ours"].sort_stats("cumulative").print_stats(30)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} [{min(values):.2f}-{max(values):.2f}]"


def compare(label: str, ours: tuple[Path, list], bare: tuple[Path, list], repetitions: int) -> dict:
    """Interleaved dry runs (the first of each pair alternates); prints one line per clock."""
    times = {"ours": [], "bare": []}
    for repetition in range(repetitions):
        pair = [("ours", ours), ("bare", bare)]
        for name, (workdir, extra) in pair if repetition % 2 == 0 else pair[::-1]:
            times[name].append(dry_run(workdir, extra))
    result = {}
    for clock, index in (("wall", 0), ("cpu", 1)):
        o = [t[index] for t in times["ours"]]
        b = [t[index] for t in times["bare"]]
        result[clock] = (o, b)
        print(
            f"{label:12s} {clock:4s}  ours {spread(o)} s  bare {spread(b)} s  "
            f"ratio {spread([x / y for x, y in zip(o, b)])}",
            flush=True,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="*", default=[10, 100, 1000, 3000])
    parser.add_argument(
        "--aes-rows",
        type=int,
        nargs="*",
        default=[1000],
        help="rows of the AI Energy Score list run directly (none: skip it)",
    )
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile both dry runs at N models"
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        default=REPO,
        help="time the workflow of this checkout (e.g. a worktree of an older "
        "commit) against the same bare Snakefile",
    )
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(args.checkout / "src"), os.environ.get("PYTHONPATH")])
    )
    with tempfile.TemporaryDirectory(prefix="plan-scale-") as tmp:
        if args.profile:
            profile(Path(tmp), args.profile)
            return
        print(
            f"`snakemake -n`, ours against a bare Snakefile with the same jobs, {args.repetitions} "
            "interleaved repetitions: median [min-max]"
        )
        rows = []
        for count in args.models:
            ours, bare = prepare(Path(tmp), count, checkout=args.checkout)
            rows.append((count, compare(f"{count} models", ours, bare, args.repetitions)))
        for count in args.aes_rows:
            ours, bare = prepare(Path(tmp), count, aes=True, checkout=args.checkout)
            compare(f"AES {count}", ours, bare, args.repetitions)
    print("\ngrowth from one model count to the next (time ratio / model-count ratio; 1 = linear):")
    for (n0, r0), (n1, r1) in zip(rows, rows[1:]):
        cells = []
        for clock in ("wall", "cpu"):
            (o0, b0), (o1, b1) = r0[clock], r1[clock]
            grow = [
                statistics.median(x1) / statistics.median(x0) / (n1 / n0)
                for x0, x1 in ((o0, o1), (b0, b1))
            ]
            cells.append(f"{clock} ours {grow[0]:.2f}, bare {grow[1]:.2f}")
        print(f"  {n0:5d} -> {n1:5d}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
