"""What the meters cost: CPU time of the background sampler, and throughput lost to it.

    python bench/meter_overhead.py [--seconds 10] [--repetitions 5]

1. CPU time of a process that holds an `EnergyMonitor` (every meter this machine allows, and
   their estimates where it has none) for --seconds at 10 Hz, 100 Hz and as fast as it goes,
   minus that of a process that only sleeps as long: the sampler's share of one core.
2. Throughput of a CPU-bound workload (a matrix product loop with torch, on one thread, as a
   generate loop's kernels) with and without the monitor at 10 Hz, interleaved.
Targets (issue 15): under 1 % of one core at 10 Hz, and no measurable throughput loss.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# One measurement, in a fresh process: CPU seconds used while holding the monitor (or not),
# ticks achieved, and the workload's iterations per second.
CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
mode, hz, seconds = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
from energybench.run.meters import EnergyMonitor

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def workload(seconds):
    import torch
    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        a = torch.tanh(a @ a)
        done += 1
    return done / seconds

monitor = EnergyMonitor.create(sample_hz=hz) if hz > 0 else None
start = cpu()
rate = workload(seconds) if mode == "work" else (time.sleep(seconds) or None)
used = cpu() - start
ticks = monitor.describe()["sampler"]["ticks"] if monitor else 0
if monitor:
    monitor.close()
print(json.dumps({"cpu_s": used, "ticks": ticks, "rate": rate}))
"""


def measure(mode: str, hz: float, seconds: float) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO / "src"), mode, str(hz), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    values = [v * scale for v in values]
    return f"{statistics.median(values):.3g}{unit} [{min(values):.3g}-{max(values):.3g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    print(f"sampler CPU over {args.seconds:g} s, {args.repetitions} repetitions: median [min-max]")
    rates = {"10 Hz": 10.0, "100 Hz": 100.0, "maximum": 1e6}
    runs: dict[str, list[dict]] = {name: [] for name in ["idle", *rates]}
    for _ in range(args.repetitions):
        runs["idle"].append(measure("sleep", 0, args.seconds))
        for name, hz in rates.items():
            runs[name].append(measure("sleep", hz, args.seconds))
    idle = statistics.median(r["cpu_s"] for r in runs["idle"])
    for name in rates:
        share = [(r["cpu_s"] - idle) / args.seconds for r in runs[name]]
        achieved = [r["ticks"] / args.seconds for r in runs[name]]
        print(
            f"  {name:8s} {spread(share, 100, ' % of a core')}   achieved {spread(achieved, 1, ' Hz')}"
        )

    print("\nworkload throughput with the monitor at 10 Hz against without, interleaved:")
    ratios = []
    for repetition in range(args.repetitions):
        order = [0.0, 10.0] if repetition % 2 == 0 else [10.0, 0.0]
        rate = {hz: measure("work", hz, args.seconds)["rate"] for hz in order}
        ratios.append(rate[10.0] / rate[0.0])
    print(f"  with / without: {spread(ratios)}")


if __name__ == "__main__":
    main()
