"""The four comparison figures at many models, each drawn as its workflow rule draws it.

    python bench/figures_scale.py [--reports 1000] [--repetitions 3]

Unlike bench/aggregate_scale.py, whose copies of one report all have the same figures (one
point drawn 1,000 times, every model on the Pareto front), the reports here are varied
(tests/paper_fixtures.py, `many_reports`): GPU runs over three classes and two decades of
energy and throughput, valid and invalid prefill/decode splits, failed runs, estimates, and
served models with latencies, so each figure draws its large form as it would for a real set.
Times `build_figure` (read the collection, draw, write PNG and PDF), figures interleaved,
wall and CPU time of this process, median [min-max].
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests"), str(REPO / "bench")]

import paper_fixtures  # noqa: E402
from aggregate_scale import FIGURES, clocked, spread  # noqa: E402
from energybench.publish.paper.build import build_figure, build_ratings  # noqa: E402
from energybench.publish.paper.stored import write_collection  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="figures-scale-") as tmp:
        out = Path(tmp)
        paths = paper_fixtures.write_runs(
            out / "runs", paper_fixtures.many_reports(args.reports), timeline=False
        )
        collection = write_collection(paths, out / "reports.jsonl")
        ratings = out / "ratings.csv"
        build_ratings(collection, ratings, out / "calibration.json")
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in FIGURES}
        for _ in range(args.repetitions):
            for name, with_ratings in FIGURES.items():
                outputs = [out / f"{name}.png", out / f"{name}.pdf"]
                runs[name].append(
                    clocked(
                        lambda: build_figure(
                            name, collection, outputs, ratings if with_ratings else None
                        )
                    )
                )
    print(
        f"{args.reports} reports, {args.repetitions} interleaved repetitions: "
        "seconds, median [min-max]"
    )
    for clock, index in (("wall", 0), ("cpu", 1)):
        for name, values in runs.items():
            print(f"  {clock:4s} {name:8s} {spread([run[index] for run in values])}")


if __name__ == "__main__":
    main()
