"""Planning time of the workflow against a bare Snakefile with the same jobs, by model count.

    python bench/plan_scale.py [--models 10 100 1000 3000] [--repetitions 3] [--profile N]

For each count it writes N tiny models into a scratch copy of the workflow's models.yaml and
times `snakemake -n` (a dry run: parse, validate, build the DAG, check inputs) on it and on a
bare Snakefile with the same jobs per model (as the workflow's `all` has them: build the tiny
model, run it, its power timeline, its label; then one aggregate), nothing else, interleaved.
It prints the medians and min-max, the ratio per repetition, and how each grows with N.
Targets (issue 15): at most 1.5x the bare Snakefile at 1,000 models, no worse than linear.
--profile N runs the workflow's dry run once under cProfile at N models and prints the top
functions by cumulative time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "config", "data", "envs", "src", "profiles",
                  "containers", "requirements", "pyproject.toml", ".dockerignore"]

BARE_SNAKEFILE = """
MODELS = [f"m{i}" for i in range(int(config["count"]))]


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
        "resources/models/{model}",
    output:
        "results/runs/{model}/benchmark_report.json",
    shell:
        "touch {output}"


rule timeline:
    input:
        "results/runs/{model}/benchmark_report.json",
    output:
        "results/paper/runs/{model}/power.png",
    shell:
        "touch {output}"


rule label:
    input:
        "results/runs/{model}/benchmark_report.json",
    output:
        "results/paper/labels/{model}.png",
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


def models_document(count: int) -> dict:
    """`count` tiny models (each also needs its build job, as the shipped models do)."""
    return {"models": {
        f"tiny-{i}": {"tiny": {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512, "seed": i}}
        for i in range(count)
    }}


def copy_checkout(names: list[str], target: Path) -> Path:
    """A scratch copy of the named files and folders of this checkout."""
    target.mkdir(parents=True)
    for name in names:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def prepare(root: Path, count: int) -> tuple[Path, Path]:
    ours = copy_checkout(WORKFLOW_FILES, root / f"ours-{count}")
    bare = root / f"bare-{count}"
    (ours / "config/models.yaml").write_text(yaml.safe_dump(models_document(count)))
    (bare / "data").mkdir(parents=True)
    shutil.copy2(REPO / "data/prompts.jsonl", bare / "data/prompts.jsonl")
    (bare / "Snakefile").write_text(BARE_SNAKEFILE)
    return ours, bare


def dry_run(workdir: Path, count: int, bare: bool) -> float:
    command = [sys.executable, "-m", "snakemake", "all", "-n", "--cores", "1", "--quiet", "progress"]
    if bare:
        command += ["--config", f"count={count}"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"snakemake -n failed in {workdir}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def profile(root: Path, count: int) -> None:
    ours, _ = prepare(root, count)
    out = root / "plan.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "snakemake", "-n", "--cores", "1",
                    "--quiet", "progress", "all"], cwd=ours, check=True, capture_output=True)
    import pstats

    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(40)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f}  [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[10, 100, 1000, 3000])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--profile", type=int, metavar="N", help="profile the workflow's dry run at N models")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="plan-scale-") as tmp:
        if args.profile:
            profile(Path(tmp), args.profile)
            return
        rows = []
        for count in args.models:
            ours_dir, bare_dir = prepare(Path(tmp), count)
            ours, bare = [], []
            for repetition in range(args.repetitions):
                pair = [("ours", ours_dir, False), ("bare", bare_dir, True)]
                for name, workdir, is_bare in pair if repetition % 2 == 0 else pair[::-1]:
                    (ours if name == "ours" else bare).append(dry_run(workdir, count, is_bare))
            ratios = [o / b for o, b in zip(ours, bare)]
            rows.append((count, ours, bare, ratios))
            print(f"{count:5d} models  ours {spread(ours)} s  bare {spread(bare)} s  ratio {spread(ratios)}",
                  flush=True)
    print("\ngrowth from one count to the next (time ratio / model-count ratio; 1 = linear):")
    for (n0, o0, b0, _), (n1, o1, b1, _) in zip(rows, rows[1:]):
        scale = n1 / n0
        print(f"  {n0:5d} -> {n1:5d}: ours {statistics.median(o1) / statistics.median(o0) / scale:.2f}, "
              f"bare {statistics.median(b1) / statistics.median(b0) / scale:.2f}")


if __name__ == "__main__":
    main()
