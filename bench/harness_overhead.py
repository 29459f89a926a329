"""The pytorch backend's generation throughput against a bare `model.generate` loop.

    python bench/harness_overhead.py [--repetitions 3] [--prompts 32] [--batch-size 4] [--new-tokens 32]

Builds the tiny Llama (random weights, float32, CPU), then, interleaved and each in a fresh
process: `energybench run` of it with the pytorch backend (meters on, sampler at 10 Hz; its
generate window's tokens/s), and a bare loop that loads the same model and tokenizer and calls
`model.generate` over the same prompts, batch size, output length and dtype (tokens/s over the
same loop, after the same warm-up). Prints both, and our throughput / bare per repetition.
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
model_dir, prompts_file, batch_size, new_tokens, warmup = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
prompts = [json.loads(line)["text"] for line in open(prompts_file)]
tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()

def generate(texts):
    inputs = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             pad_token_id=tokenizer.pad_token_id)
    return out.shape[0] * (out.shape[1] - inputs["input_ids"].shape[1])

measured, warm = prompts[:len(prompts) - warmup], prompts[len(prompts) - warmup:]
for i in range(0, len(warm), batch_size):
    generate(warm[i:i + batch_size])
start = time.perf_counter()
tokens = sum(generate(measured[i:i + batch_size]) for i in range(0, len(measured), batch_size))
print(json.dumps({"tokens_per_s": tokens / (time.perf_counter() - start)}))
"""


def child_environment(args) -> dict[str, str]:
    """This checkout's code first on the module path, and torch's thread count for both sides:
    on a shared machine, a parallel region waits for its slowest thread, and a thread that
    shares its core with another busy process made single runs up to 35x slower."""
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    return os.environ | {"PYTHONPATH": path, "OMP_NUM_THREADS": str(args.threads)}


def ours(model: Path, dataset: Path, args, work: Path, count: int) -> float:
    from energybench.config import load_yaml, resolve_model

    config = load_yaml(REPO / "config/config.yaml")
    entry = {"id": str(model), "backend": "pytorch", "dtype": "float32", "dataset": str(dataset),
             "num_prompts": args.prompts, "warmup_prompts": args.warmup, "batch_size": args.batch_size,
             "max_new_tokens": args.new_tokens, "trials": 1}
    run_dir = work / f"run-{count}"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(resolve_model("bench", entry, config["defaults"],
                                                                  config["measurement"])))
    env = child_environment(args)
    subprocess.run([sys.executable, "-m", "energybench", "run", "--config", str(run_dir / "config.json"),
                    "--output", str(run_dir / "benchmark_report.json")], check=True, capture_output=True, env=env)
    report = json.loads((run_dir / "benchmark_report.json").read_text())
    trial = report["trials"][0]  # the generate window (its throughput_tokens_per_second counts prompt tokens too)
    return trial["completion_tokens"] / trial["duration_s"]


def bare(model: Path, dataset: Path, args) -> float:
    done = subprocess.run([sys.executable, "-c", BARE, str(model), str(dataset), str(args.batch_size),
                           str(args.new_tokens), str(args.warmup)], check=True, capture_output=True, text=True,
                          env=child_environment(args))
    return json.loads(done.stdout.strip().splitlines()[-1])["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    args = parser.parse_args()
    from energybench.prompts import load_prompts
    from energybench.tiny import build_tiny_model

    with tempfile.TemporaryDirectory(prefix="harness-overhead-") as tmp:
        work = Path(tmp)
        model = build_tiny_model(work / "model")
        dataset = work / "prompts.jsonl"
        prompts = load_prompts(str(REPO / "data/prompts.jsonl"), args.prompts + args.warmup)
        dataset.write_text("".join(json.dumps({"text": p}) + "\n" for p in prompts))
        runs = {"ours": [], "bare": []}
        for repetition in range(args.repetitions):
            for name in (("ours", "bare") if repetition % 2 == 0 else ("bare", "ours")):
                value = ours(model, dataset, args, work, repetition) if name == "ours" else bare(model, dataset, args)
                runs[name].append(value)
                print(f"rep {repetition}  {name}  {value:8.1f} tokens/s", flush=True)
    ratios = [o / b for o, b in zip(runs["ours"], runs["bare"])]
    print(f"\n{args.prompts} prompts, batch {args.batch_size}, {args.new_tokens} new tokens, float32 CPU, "
          f"{args.threads} torch thread(s), "
          f"{args.repetitions} interleaved repetitions: median [min-max]")
    for name, values in (*runs.items(), ("ours / bare", ratios)):
        print(f"  {name:12s} {statistics.median(values):8.3f}  [{min(values):.3f}-{max(values):.3f}]")


if __name__ == "__main__":
    main()
