"""Per-model wall time of the container runtimes against the process runtime, and image builds.

    python bench/isolation_overhead.py [--runtimes docker podman] [--repetitions 3] [--builds] [--cold]

Runs one tiny Llama (pytorch backend, 4 prompts, 8 new tokens) through the workflow's own job
(`energybench.job.model_job.run_model_job`: launch, run, report) with each runtime, interleaved in
rotating order, in the image this checkout builds (`energybench:bench-isolation`, built first:
a rebuild of the checkout's own sources on top of the engine's cached layers). It prints each
runtime's median and min-max wall time per model and the time added to the process runtime's,
per repetition.
--builds also times, per container CLI: a rebuild with nothing changed (the layer cache only),
and a rebuild after a change to engine code only (one comment added to a copy of the checkout's
src/energybench/run/benchmark.py), which must reuse the torch layer.
--cold times, per container CLI, the cold build: a fresh base image (debootstrap, under a tag of
its own, so that no layer of an earlier build can match and other builds' caches stay as they
are), then the image on it (the torch wheel, the engine's requirements from PyPI, the engine),
then the rebuild after an engine-only change on that same base; it prints how many build steps
came from the layer cache in each, and removes its tags at the end. Takes minutes.
Target (issue 15): under 2 s added per model.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from aggregate_scale import tiny_run_config, timed  # noqa: E402
from energybench.job.isolation import build_cpu_image  # noqa: E402
from energybench.job.isolation.images import ensure_cpu_base  # noqa: E402
from energybench.job.model_job import run_model_job  # noqa: E402
from plan_scale import copy_checkout  # noqa: E402

TAG = "energybench:bench-isolation"
COLD_BASE = "energybench-base:bench-cold"
COLD_TAG = "energybench:bench-cold"
# A build step's first line in the logs of docker's legacy builder and of buildah (podman), and
# how both say that the step came from the layer cache.
STEP = re.compile(r"^(?:\[\d+/\d+\] )?(?:Step|STEP) \d+/\d+ ?: ?(.*)$", re.MULTILINE)
CACHED = "Using cache"
TORCH_STEP = "pip install /tmp/wheels/torch"
CHECKOUT_PARTS = ["containers", "src", "requirements", "pyproject.toml", ".dockerignore", "scripts"]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f}  [{min(values):.2f}-{max(values):.2f}]"


def build(
    repo: Path, cli: str, tag: str = TAG, base_image: str | None = None, log: Path | None = None
) -> tuple[str, float]:
    started = time.perf_counter()
    image_id = build_cpu_image(
        repo, tag=tag, container_cli=cli, log_path=log, base_image=base_image
    )
    return image_id, time.perf_counter() - started


def build_steps(log: Path) -> list[tuple[str, bool]]:
    """Each build step's instruction in the log, and whether it came from the layer cache."""
    text = log.read_text(errors="replace")
    starts = list(STEP.finditer(text))
    ends = [m.start() for m in starts[1:]] + [len(text)]
    return [(m.group(1), CACHED in text[m.end() : end]) for m, end in zip(starts, ends)]


def describe_build(log: Path) -> str:
    """How many steps came from the cache, whether the torch layer did, and which steps ran."""
    steps = build_steps(log)
    torch = next((cached for instruction, cached in steps if TORCH_STEP in instruction), None)
    ran = [
        instruction.split()[0] + " " + instruction.split()[1][:24]
        for instruction, cached in steps
        if not cached and instruction.split()[0] in ("COPY", "RUN")
    ]
    return (
        f"{sum(cached for _, cached in steps)} of {len(steps)} steps from the cache, torch layer "
        f"{'reused' if torch else 'rebuilt' if torch is not None else 'not found'}; ran: {', '.join(ran)}"
    )


def remove_cold_tags(cli: str) -> None:
    """Untag this script's cold images (their layers go with them where nothing else uses them)."""
    subprocess.run([cli, "rmi", COLD_TAG, COLD_BASE], capture_output=True, check=False)


def cold_builds(cli: str, work: Path) -> None:
    """The cold build of the image on a base made for it, then an engine-only rebuild on top."""
    remove_cold_tags(cli)  # a leftover of an interrupted run would make the build warm
    logs = work / f"{cli}-cold"
    logs.mkdir(parents=True)
    try:
        started = time.perf_counter()
        ensure_cpu_base(REPO, cli, logs / "base.log", base_image=COLD_BASE)
        print(
            f"{cli}: cold base image (debootstrap, import): {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        _, seconds = build(REPO, cli, COLD_TAG, COLD_BASE, logs / "image.log")
        print(
            f"{cli}: cold image build on it: {seconds:.1f} s; {describe_build(logs / 'image.log')}",
            flush=True,
        )
        copy = engine_only_change(logs)
        _, seconds = build(copy, cli, COLD_TAG, COLD_BASE, logs / "engine-only.log")
        print(
            f"{cli}: then a rebuild after an engine-only change: {seconds:.1f} s; "
            f"{describe_build(logs / 'engine-only.log')}; logs in {logs}",
            flush=True,
        )
    finally:
        remove_cold_tags(cli)


def engine_only_change(work: Path) -> Path:
    """A copy of the checkout's image sources with one comment added to engine code."""
    copy = copy_checkout(CHECKOUT_PARTS, work / "checkout")
    engine = copy / "src/energybench/run/benchmark.py"
    engine.write_text(engine.read_text() + f"\n# engine-only change {time.time()}\n")
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtimes", nargs="+", default=["docker", "podman"])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--builds", action="store_true", help="also time the image rebuilds")
    parser.add_argument("--cold", action="store_true", help="also time cold builds (minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="isolation-overhead-") as tmp:
        work = Path(tmp)
        if args.cold:
            for cli in args.runtimes:
                cold_builds(cli, REPO / "build" / "bench-logs" / time.strftime("%Y%m%dT%H%M%S"))
        image_files = {}
        for cli in args.runtimes:
            image_id, seconds = build(REPO, cli)
            print(f"{cli}: image of this checkout built in {seconds:.1f} s", flush=True)
            image_files[cli] = work / f"{cli}.id"
            image_files[cli].write_text(image_id + "\n")
            if args.builds:
                print(f"{cli}: rebuild, nothing changed: {build(REPO, cli)[1]:.1f} s", flush=True)
                copy = engine_only_change(work / cli)
                print(
                    f"{cli}: rebuild after an engine-only change: {build(copy, cli)[1]:.1f} s",
                    flush=True,
                )
        runtimes = ["process", *args.runtimes]
        runs: dict[str, list[float]] = {name: [] for name in runtimes}
        for repetition in range(args.repetitions):
            shift = repetition % len(runtimes)
            for runtime in runtimes[shift:] + runtimes[:shift]:
                key = f"{runtime}-{repetition}"
                run_config = tiny_run_config(work, key) | {"runtime": runtime}
                report = work / "runs" / key / "benchmark_report.json"
                seconds = timed(
                    lambda: run_model_job(
                        run_config,
                        str(report),
                        str(work / "logs" / f"{key}.log"),
                        image_id_file=str(image_files[runtime]) if runtime in image_files else None,
                    )
                )
                status = json.loads(report.read_text())["status"]
                if status != "succeeded":
                    raise SystemExit(
                        f"the {runtime} run failed; log {work / 'logs' / key}.log:\n"
                        + (work / "logs" / f"{key}.log").read_text()[-2000:]
                    )
                runs[runtime].append(seconds)
                print(f"  repetition {repetition} {runtime:8s} {seconds:6.2f} s", flush=True)
    if not args.repetitions:
        return
    print(
        f"per-model wall time, {args.repetitions} interleaved repetitions: seconds, median [min-max]"
    )
    for runtime, values in runs.items():
        print(f"  {runtime:8s} {spread(values)}")
    for runtime in args.runtimes:
        added = [c - p for c, p in zip(runs[runtime], runs["process"])]
        print(f"  {runtime} - process {spread(added)} s added per model")


if __name__ == "__main__":
    main()
