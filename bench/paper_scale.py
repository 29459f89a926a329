"""`snakemake paper` (paper mode) from many stored reports, from scratch, against one Python loop drawing the
same files in one process.

    python bench/paper_scale.py [--reports 1000] [--repetitions 1] [--cores 1]
                                [--checkout DIR] [--skip-loop] [--one-changed]

Lays out --reports varied stored reports (tests/paper_fixtures.py, `many_reports`, each with
the test power timeline: GPU runs over three classes and two decades of energy, served,
estimated and failed runs) under `results/runs/` of a scratch copy of this checkout's
workflow (or of --checkout, e.g. an export of another commit), then, each repetition:
- `snakemake`: `snakemake paper --config paper=true --cores N` in that copy (a checkout from
  before the `paper` setting: without it), its earlier outputs and Snakemake's records removed
  first (from scratch);
- `loop`: a fresh Python that makes every file `paper` makes (the collection, ratings,
  tables, the four comparison figures, AI Energy Score's master_results.csv, each model's
  label and power timeline, the site) by calling the same functions one after the other.
With --one-changed, after each repetition one report is changed (its finish time, which its
label shows) and `snakemake paper` timed again (`one changed`: what an edit costs).
Each runs in its own process, so both pay their imports; the two alternate, the first of
each repetition changing. Prints wall time and CPU time (the process and its children) of
each, median [min-max], and snakemake / loop. Target (issue 24): snakemake / loop at most 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests"), str(REPO / "bench")]

import paper_fixtures  # noqa: E402
from aggregate_scale import spread  # noqa: E402
from conftest import WORKFLOW_FILES  # noqa: E402
from plan_scale import copy_checkout  # noqa: E402

FIGURES = {
    "energy": "energy_per_1000_queries",
    "pareto": "energy_per_token_vs_throughput",
    "phases": "prefill_decode",
    "latency": "latency_percentiles",
}
TABLES = ("models", "trials", "phases", "latency", "checks")

# The loop, run as `python -c LOOP RUNS OUT` with this checkout's src first on the path.
LOOP = f"""
import sys
from pathlib import Path
from energybench.publish.paper.build import (build_figure, build_label, build_master_results,
                                             build_ratings, build_run_figure, build_tables,
                                             read_ratings)
from energybench.publish.paper.stored import write_collection
from energybench.publish.site import build_site

runs, out = Path(sys.argv[1]), Path(sys.argv[2])
paths = sorted(runs.glob("*/benchmark_report.json"))
collection = write_collection(paths, out / "reports.jsonl")
build_ratings(collection, out / "tables/ratings.csv", out / "tables/rating_calibration.json")
build_tables(collection, out / "tables/ratings.csv",
             {{**{{name: out / f"tables/{{name}}.csv" for name in {TABLES!r}}},
               "latex": out / "tables/models.tex"}})
for module, name in {FIGURES!r}.items():
    build_figure(module, collection, [out / f"figures/{{name}}.png", out / f"figures/{{name}}.pdf"],
                 out / "tables/ratings.csv" if module == "energy" else None)
build_master_results(collection, out / "tables/master_results.csv")
ratings = read_ratings(out / "tables/ratings.csv")
labels, timelines = [], []
for path in paths:
    model = path.parent.name
    label = [out / f"labels/{{model}}.svg", out / f"labels/{{model}}.png"]
    timeline = [out / f"figures/runs/{{model}}/power_timeline.png",
                out / f"figures/runs/{{model}}/power_timeline.pdf"]
    build_label(path, ratings, label)
    build_run_figure(path, path.parent / "power_timeline.csv", timeline)
    labels.append(label[0])
    timelines.append(timeline[0])
build_site(collection, out / "site", ratings=out / "tables/ratings.csv", labels=labels,
           figures=timelines)
"""


def from_scratch(workdir: Path) -> None:
    """Remove everything `paper` made before, and Snakemake's records of it."""
    for name in (".snakemake", "logs"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    for path in (workdir / "results").iterdir():
        if path.name != "runs":
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def run_clocked(command: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(
            f"{command[:4]} failed in {cwd}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def change_one_report(runs: Path, repetition: int) -> None:
    """Give one stored report a new finish time (a re-measurement, as far as `paper` sees)."""
    path = sorted(runs.glob("*/benchmark_report.json"))[3]
    report = json.loads(path.read_text())
    report["provenance"]["finished_at"] = f"2026-12-{repetition + 1:02d}T10:00:00+00:00"
    path.write_text(json.dumps(report))


def paper_mode(checkout: Path) -> list[str]:
    """The setting of paper mode, where the checkout has it (before it, the target's name on
    the command line was enough)."""
    schema = (checkout / "config/schemas/config.schema.yaml").read_text()
    return ["--config", "paper=true"] if "\n  paper:\n" in schema else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--cores", type=int, default=1, help="snakemake --cores")
    parser.add_argument(
        "--checkout",
        type=Path,
        default=REPO,
        help="the workflow whose `snakemake paper` is timed (default: this one)",
    )
    parser.add_argument("--skip-loop", action="store_true", help="time `snakemake paper` only")
    parser.add_argument(
        "--one-changed",
        action="store_true",
        help="also time `snakemake paper` after one report changed",
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    times: dict[str, list[tuple[float, float]]] = {"snakemake": [], "loop": [], "one changed": []}
    paper = [
        sys.executable,
        "-m",
        "snakemake",
        "paper",
        "--cores",
        str(args.cores),
        "--quiet",
        "all",
        *paper_mode(args.checkout),
    ]
    with tempfile.TemporaryDirectory(prefix="paper-scale-") as tmp:
        workdir = copy_checkout(WORKFLOW_FILES, Path(tmp) / "workflow", args.checkout.resolve())
        paper_fixtures.write_runs(
            workdir / "results/runs", paper_fixtures.many_reports(args.reports)
        )
        sides = {
            "snakemake": lambda: (from_scratch(workdir), run_clocked(paper, workdir, env))[1],
            "loop": lambda: (
                shutil.rmtree(Path(tmp) / "loop", ignore_errors=True),
                run_clocked(
                    [
                        sys.executable,
                        "-c",
                        LOOP,
                        str(workdir / "results/runs"),
                        str(Path(tmp) / "loop"),
                    ],
                    workdir,
                    env,
                ),
            )[1],
        }
        if args.skip_loop:
            del sides["loop"]
        for repetition in range(args.repetitions):
            for name in list(sides) if repetition % 2 == 0 else list(reversed(sides)):
                times[name].append(sides[name]())
                print(
                    f"  repetition {repetition + 1}, {name}: {times[name][-1][0]:.1f} s wall, "
                    f"{times[name][-1][1]:.1f} s CPU",
                    flush=True,
                )
            if args.one_changed:
                change_one_report(workdir / "results/runs", repetition)
                times["one changed"].append(run_clocked(paper, workdir, env))
                print(
                    f"  repetition {repetition + 1}, one changed: "
                    f"{times['one changed'][-1][0]:.1f} s wall",
                    flush=True,
                )
    print(
        f"{args.reports} stored reports, `snakemake paper --cores {args.cores}` from scratch "
        f"({args.checkout}) and one loop, {args.repetitions} repetition(s): seconds, "
        "median [min-max]"
    )
    for clock, index in (("wall", 0), ("cpu", 1)):
        for name, values in times.items():
            if values:
                print(f"  {clock:4s} {name:11s} {spread([run[index] for run in values])}")
        if times["loop"]:
            ratios = [s[index] / loop[index] for s, loop in zip(times["snakemake"], times["loop"])]
            print(f"  {clock:4s} snakemake / loop {spread(ratios)}")


if __name__ == "__main__":
    main()
