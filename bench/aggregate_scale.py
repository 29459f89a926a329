"""Building the tables, ratings, figures and site from many reports, against a bare json.load loop.

    python bench/aggregate_scale.py [--reports 1000] [--repetitions 3] [--template REPORT]
                                    [--tables-only]

Makes one real report (the tiny Llama through `energybench run`, pytorch backend, a few
prompts) unless --template names one, copies it into --reports model directories with the
model key and its energy varied, then times, interleaved and each in this process:
- `collect`: the `reports` rule's work (`energybench.publish.paper.stored.write_collection`): read and
  validate each report once into the one collection file every aggregate rule reads;
- `tables`: the `tables` rule's work (`energybench.publish.paper.build.build_tables` from that file:
  models.csv and the trial, phase, latency, check and LaTeX tables);
- `bare`: `json.load` of every report into a pandas DataFrame (one row per report), nothing else;
- `ratings`: the star ratings (`build_ratings`);
- one entry per comparison figure of `energybench.publish.paper.figures` (`build_figure`, PNG and PDF);
- `site`: the static site (`energybench.publish.site.build_site`, with the ratings, the
  comparison figures just drawn and the methodology docs; no labels or per-run figures, which
  are per-model jobs).
It prints the medians and min-max of wall and CPU time (this process's: steadier on a shared
machine), tables / bare and (collect + tables) / bare per repetition, and what validating and
typing one report costs (its pydantic models, energybench.run.report.Report).
Target (issue 15): the tables at most 2x the bare loop; the figures and the site timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from energybench.publish.paper.build import build_figure, build_ratings, build_tables  # noqa: E402
from energybench.publish.paper.stored import write_collection  # noqa: E402
from energybench.run.report import Report, read_report  # noqa: E402
from energybench.publish.site import build_site  # noqa: E402

FIGURES = {"energy": True, "latency": False, "pareto": False, "phases": False}
"""The comparison figures, and whether each draws the star ratings too."""
TABLES = ("models", "trials", "phases", "latency", "checks")
METHODOLOGY = [REPO / "docs/energy.md", REPO / "docs/paper.md"]  # the site's methodology page


def tiny_run_config(work: Path, key: str = "template", **settings) -> dict:
    """The resolved run config of a tiny Llama built under ``work``: a few prompts, a short
    idle baseline (``settings`` override the model entry's fields)."""
    from energybench.plan.config import load_yaml, resolve_model
    from energybench.job.tiny import build_tiny_model

    model = work / "model" if (work / "model").exists() else build_tiny_model(work / "model")
    config = load_yaml(REPO / "config/config.yaml")
    entry = {
        "id": str(model),
        "backend": "pytorch",
        "dtype": "float32",
        "num_prompts": 4,
        "warmup_prompts": 1,
        "max_new_tokens": 8,
        "trials": 1,
    } | settings
    return resolve_model(
        key, entry, config["defaults"], config["measurement"] | {"idle_seconds": 0.5}
    )


def make_template(work: Path) -> Path:
    run_config = work / "config.json"
    run_config.write_text(json.dumps(tiny_run_config(work)))
    report = work / "template" / "benchmark_report.json"
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "energybench",
            "run",
            "--config",
            str(run_config),
            "--output",
            str(report),
            "--workdir",
            str(REPO),
        ],
        check=True,
        capture_output=True,
        env=os.environ | {"PYTHONPATH": path},
    )
    return report


def write_reports(template: Path, root: Path, count: int) -> list[Path]:
    report = json.loads(template.read_text())
    paths = []
    for i in range(count):
        report["model"] = f"model-{i:05d}"
        report["config"]["model"] = report["model"]
        path = root / report["model"] / "benchmark_report.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(report))
        paths.append(path)
    return paths


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def clocked(action) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``action``: CPU time is steadier on a
    shared machine, where a process waits for a core."""
    started = time.process_time()
    wall = timed(action)
    return wall, time.process_time() - started


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f}  [{min(values):.3f}-{max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--template", type=Path, help="a benchmark_report.json to copy")
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="time the collection, tables, bare loop and ratings only",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aggregate-scale-") as tmp:
        work = Path(tmp)
        template = args.template or make_template(work)
        paths = write_reports(template, work / "runs", args.reports)
        out = work / "out"
        out.mkdir()
        tables = {name: out / f"{name}.csv" for name in TABLES} | {"latex": out / "models.tex"}
        ratings = out / "ratings.csv"

        def bare() -> None:
            rows = []
            for path in paths:
                with open(path) as handle:
                    rows.append(json.load(handle))
            pd.DataFrame(rows)

        collection = write_collection(paths, out / "reports.jsonl")

        def figure(name: str, with_ratings: bool):
            outputs = [out / f"{name}.png", out / f"{name}.pdf"]
            return lambda: build_figure(
                name, collection, outputs, ratings if with_ratings else None
            )

        actions = {
            "collect": lambda: write_collection(paths, collection),
            "tables": lambda: build_tables(collection, ratings, tables),
            "bare": bare,
            "ratings": lambda: build_ratings(collection, ratings, out / "calibration.json"),
        }
        if not args.tables_only:
            actions |= {f"figure {name}": figure(name, stars) for name, stars in FIGURES.items()}
            actions["site"] = lambda: build_site(
                collection,
                out / "site",
                ratings=ratings,
                methodology=METHODOLOGY,
                comparisons=[out / f"{name}.png" for name in FIGURES],
            )
        build_ratings(collection, ratings, out / "calibration.json")  # the tables' stars
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
        for repetition in range(args.repetitions):
            first = ["collect", "tables", "bare"]
            first = first[repetition % 3 :] + first[: repetition % 3]  # rotating order
            for name in first + [n for n in actions if n not in first]:
                runs[name].append(clocked(actions[name]))
        validation = validation_costs(read_report(paths[0]))
    print(
        f"{args.reports} reports, {args.repetitions} interleaved repetitions: seconds, median [min-max]"
    )
    for clock, index in (("wall", 0), ("cpu", 1)):
        times = {name: [run[index] for run in values] for name, values in runs.items()}
        for name, values in times.items():
            print(f"  {clock:4s} {name:15s} {spread(values)}")
        bare_runs = times["bare"]
        print(
            f"  {clock:4s} tables / bare {spread([t / b for t, b in zip(times['tables'], bare_runs)])}"
        )
        both = [(c + t) / b for c, t, b in zip(times["collect"], times["tables"], bare_runs)]
        print(f"  {clock:4s} (collect + tables) / bare {spread(both)}")
    print(f"validating and typing one report: {validation:.3f} ms")


def validation_costs(report: dict, repetitions: int = 200) -> float:
    """Milliseconds to validate ``report`` and build its typed form (one step: the report's
    models), the mean of ``repetitions``."""
    Report.from_dict(report)  # the models' validators built before timing
    started = time.perf_counter()
    for _ in range(repetitions):
        Report.from_dict(report)
    return (time.perf_counter() - started) / repetitions * 1000


if __name__ == "__main__":
    main()
