"""The pytorch backend's generation throughput against a bare `model.generate` loop.

    python bench/harness_overhead.py [--repetitions 3] [--windows 3] [--prompts 32] [--batch-size 4]
                                     [--new-tokens 32] [--nice -10] [--profile] [--breakdown 10]

Builds the tiny Llama (random weights, float32, CPU), then, interleaved and each in a fresh
process: `energybench run` of it with the pytorch backend (meters on, sampler at 10 Hz; one
generate window per trial, its output tokens/s), and a bare loop that loads the same model and
tokenizer and calls `model.generate` over the same prompts (through the model's chat template,
as our run formats them), batch size, output length, dtype, padding side and thread count,
after the same warm-up, timing the same number of windows. Each process counts the median of
its windows. Before a ratio is printed, both sides must have read the same prompt tokens and
written the same output tokens. Prints both, and our throughput / bare per repetition;
``--profile`` then runs ours once more under cProfile and prints where its time went;
``--breakdown N`` times, in-process, what share of N generate windows is the harness's own work
(everything outside tokenising, generating and counting) and its first-token clock.
Target (issue 15): at least 0.95 of the bare loop.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

BARE = """
import json, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
model_dir, prompts_file, batch_size, new_tokens, warmup, windows = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
prompts = [json.loads(line)["text"] for line in open(prompts_file)]
tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
if tokenizer.chat_template:  # as anyone would prompt a chat model (and as our run does)
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                             tokenize=False, enable_thinking=False) for p in prompts]
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()

def generate(texts):
    inputs = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             pad_token_id=tokenizer.pad_token_id)
    return int(inputs["attention_mask"].sum()), out.shape[0] * (out.shape[1] - inputs["input_ids"].shape[1])

measured, warm = prompts[:len(prompts) - warmup], prompts[len(prompts) - warmup:]
for i in range(0, len(warm), batch_size):
    generate(warm[i:i + batch_size])
for _ in range(windows):
    start = time.perf_counter()
    counts = [generate(measured[i:i + batch_size]) for i in range(0, len(measured), batch_size)]
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "prompt_tokens": sum(p for p, _ in counts),
                      "completion_tokens": sum(c for _, c in counts)}))
"""


def child(args) -> dict:
    """How both sides are started: the environment below, and the niceness asked for."""
    return {
        "env": child_environment(args),
        "preexec_fn": (lambda: os.nice(args.nice)) if args.nice else None,
    }


def child_environment(args) -> dict[str, str]:
    """This checkout's code first on the module path, and torch's thread count for both sides:
    on a shared machine, a parallel region waits for its slowest thread, and a thread that
    shares its core with another busy process made single runs up to 35x slower."""
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    return os.environ | {"PYTHONPATH": path, "OMP_NUM_THREADS": str(args.threads)}


def ours(
    model: Path, dataset: Path, args, work: Path, count: int, profile: Path | None = None
) -> list[dict]:
    """Our generate windows (one per trial), from the run's report."""
    from energybench.plan.config import load_yaml, resolve_model

    config = load_yaml(REPO / "config/config.yaml")
    entry = {
        "id": str(model),
        "backend": "pytorch",
        "dtype": "float32",
        "dataset": str(dataset),
        "num_prompts": args.prompts,
        "warmup_prompts": args.warmup,
        "batch_size": args.batch_size,
        "max_new_tokens": args.new_tokens,
        "trials": args.windows,
    }
    run_dir = work / f"run-{count}"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(
        json.dumps(resolve_model("bench", entry, config["defaults"], config["measurement"]))
    )
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    subprocess.run(
        [
            sys.executable,
            *profiler,
            "-m",
            "energybench",
            "run",
            "--config",
            str(run_dir / "config.json"),
            "--output",
            str(run_dir / "benchmark_report.json"),
        ],
        check=True,
        capture_output=True,
        **child(args),
    )
    report = json.loads((run_dir / "benchmark_report.json").read_text())
    # A short generate window repeats whole passes over the batches until the meters resolve
    # it: compare one pass, as the bare loop runs it.
    passes = [phases["generate_passes"] for phases in report["phases"]["trials"]]
    # of the first trial's window: every trial runs the same batches
    prompt_tokens = report["summary"]["total_prompt_tokens"] // passes[0]
    # A trial's throughput_tokens_per_second counts prompt tokens too: output tokens over the window instead.
    return [
        {
            "seconds": trial["duration_s"] / n,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": trial["completion_tokens"] // n,
        }
        for trial, n in zip(report["trials"], passes, strict=True)
    ]


def bare(model: Path, dataset: Path, args) -> list[dict]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            BARE,
            str(model),
            str(dataset),
            str(args.batch_size),
            str(args.new_tokens),
            str(args.warmup),
            str(args.windows),
        ],
        check=True,
        capture_output=True,
        text=True,
        **child(args),
    )
    return [json.loads(line) for line in done.stdout.strip().splitlines()[-args.windows :]]


def same_work(windows: dict[str, list[dict]]) -> None:
    """Both sides must have read the same prompt tokens and written the same output tokens,
    or the ratio compares different work (as it did when the bare loop skipped the chat template)."""
    counts = {
        name: {(w["prompt_tokens"], w["completion_tokens"]) for w in runs}
        for name, runs in windows.items()
    }
    if counts["ours"] != counts["bare"]:
        raise SystemExit(f"not the same work: (prompt tokens, output tokens) per window {counts}")


def tokens_per_s(windows: list[dict]) -> float:
    """The median window's output tokens per second."""
    return statistics.median(w["completion_tokens"] / w["seconds"] for w in windows)


def breakdown(model: Path, dataset: Path, args) -> None:
    """In this process (one torch thread): our backend's generate windows with the monitor at
    10 Hz, timing every ``_generate`` call (tokenise, generate, count) and every call of the
    first-token clock: what of each window is the harness's own work."""
    import time

    import torch

    from energybench.run.backends import pytorch
    from energybench.run.settings import RunConfig
    from energybench.plan.config import load_yaml, resolve_model
    from energybench.run.meters import EnergyMonitor

    torch.set_num_threads(args.threads)
    config = load_yaml(REPO / "config/config.yaml")
    entry = {
        "id": str(model),
        "backend": "pytorch",
        "dtype": "float32",
        "dataset": str(dataset),
        "num_prompts": args.prompts,
        "warmup_prompts": args.warmup,
        "batch_size": args.batch_size,
        "max_new_tokens": args.new_tokens,
    }
    backend = pytorch.PyTorchBackend(
        RunConfig.validated(
            resolve_model("bench", entry, config["defaults"], config["measurement"])
        )
    )
    spent = {"generate": [], "clock": []}

    def timing(name, function):
        def timed(*arguments, **keywords):
            started = time.perf_counter()
            try:
                return function(*arguments, **keywords)
            finally:
                spent[name].append(time.perf_counter() - started)

        return timed

    backend._generate = timing("generate", backend._generate)
    clock = pytorch._FirstTokenClock.__call__
    pytorch._FirstTokenClock.__call__ = timing("clock", clock)
    try:
        backend.warm_up()
        shares = {"outside _generate": [], "first-token clock": []}
        with EnergyMonitor.create(gpu_devices=[], sample_hz=10) as monitor:
            for index in range(args.breakdown):
                spent["generate"].clear(), spent["clock"].clear()
                _, window, _ = backend._repeat_passes(
                    f"window{index}", monitor, args.new_tokens, args.new_tokens
                )
                shares["outside _generate"].append(1 - sum(spent["generate"]) / window.duration_s)
                shares["first-token clock"].append(sum(spent["clock"]) / window.duration_s)
    finally:
        pytorch._FirstTokenClock.__call__ = clock
    print(
        f"\nInside our generate window, {args.breakdown} windows in one process: share of the window, "
        "median [min-max]"
    )
    for name, values in shares.items():
        print(
            f"  {name:18s} {100 * statistics.median(values):6.2f} %  "
            f"[{100 * min(values):.2f}-{100 * max(values):.2f}]"
        )


def print_profile(profile: Path) -> None:
    import pstats

    stats = pstats.Stats(str(profile))
    print(
        f"\ncProfile of one of our runs ({profile}), cumulative, the run's own functions and generate's:"
    )
    stats.sort_stats("cumulative").print_stats(
        r"energybench/run/(backends/pytorch|meters/monitor|meters/sampler|progress)\.py|"
        r"generation/(utils\.py:\d+\((generate|_sample)\)|stopping_criteria)|tokenization_utils_base\.py:\d+\(__call__\)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--windows", type=int, default=3, help="measured windows per process (our trials)"
    )
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of both sides (e.g. -10 as root: other jobs on a shared machine then "
        "take less of their CPU time)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="then one more of our runs under cProfile"
    )
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="WINDOWS",
        help="then time the harness's own work inside this many generate windows, in-process",
    )
    args = parser.parse_args()
    from energybench.run.prompts import load_prompts
    from energybench.job.tiny import build_tiny_model

    with tempfile.TemporaryDirectory(prefix="harness-overhead-") as tmp:
        work = Path(tmp)
        model = build_tiny_model(work / "model")
        dataset = work / "prompts.jsonl"
        prompts = load_prompts(str(REPO / "data/prompts.jsonl"), args.prompts + args.warmup)
        dataset.write_text("".join(json.dumps({"text": p}) + "\n" for p in prompts))
        runs = {"ours": [], "bare": []}
        for repetition in range(args.repetitions):
            windows = {}
            for name in ("ours", "bare") if repetition % 2 == 0 else ("bare", "ours"):
                windows[name] = (
                    ours(model, dataset, args, work, repetition)
                    if name == "ours"
                    else bare(model, dataset, args)
                )
                runs[name].append(tokens_per_s(windows[name]))
                print(f"rep {repetition}  {name}  {runs[name][-1]:8.1f} tokens/s", flush=True)
            same_work(windows)
        if args.profile:
            ours(model, dataset, args, work, args.repetitions, profile=work / "ours.prof")
            print_profile(work / "ours.prof")
        if args.breakdown:
            breakdown(model, dataset, args)
    if not args.repetitions:
        return
    ratios = [o / b for o, b in zip(runs["ours"], runs["bare"])]
    print(
        f"\n{args.prompts} prompts, batch {args.batch_size}, {args.new_tokens} new tokens, float32 CPU, "
        f"{args.threads} torch thread(s), nice {args.nice}, median of {args.windows} windows per process, "
        f"{args.repetitions} interleaved repetitions: median [min-max]"
    )
    for name, values in (*runs.items(), ("ours / bare", ratios)):
        print(
            f"  {name:12s} {statistics.median(values):8.3f}  [{min(values):.3f}-{max(values):.3f}]"
        )


if __name__ == "__main__":
    main()
