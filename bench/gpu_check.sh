#!/usr/bin/env bash
# GPU check of the measurement chain, offline (no model download): build a random-weight
# model with Llama-3.1-8B's architecture in bf16, run the pytorch backend through the meters
# (NVML counter, power sampler, idle baseline, 3 trials, prefill/decode), then print J/token,
# every check and the counter-vs-power-integral agreement. Needs an NVIDIA GPU with ~20 GB
# free, PyTorch with CUDA, transformers, nvidia-ml-py; about 3-4 minutes on an H100/H200.
#
#   bash bench/gpu_check.sh [OUT_DIR]        (default: build/gpu_check)
# Record what it prints, with the GPU model, in docs/gpu-check.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/build/gpu_check}"
export PYTHONPATH="$repo/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,power.limit,memory.total --format=csv

python3 - "$repo" "$out" <<'PY'
import json, sys, time
from pathlib import Path

from energybench.job.tiny import build_tiny_model

repo, out = Path(sys.argv[1]), Path(sys.argv[2])
model_dir = out / "llama-3.1-8b-random"
if not (model_dir / "config.json").exists():
    started = time.monotonic()
    # Llama-3.1-8B's architecture (hidden 4096, 32 layers, 32 heads, 8 KV heads, FFN 14336,
    # vocab 128256); random weights, built on the GPU in bf16.
    build_tiny_model(model_dir, hidden_size=4096, num_layers=32, num_heads=32,
                     num_key_value_heads=8, intermediate_size=14336, model_vocab_size=128256,
                     dtype="bfloat16", device="cuda")
    print(f"built {model_dir} in {time.monotonic() - started:.0f} s")
config = {
    "model": "llama-3.1-8b-random", "id": str(model_dir), "backend": "pytorch",
    "task": "text_generation", "class": "B", "reasoning": False, "reasoning_params": {},
    "dtype": "bfloat16", "device": "cuda", "batch_size": 16, "max_new_tokens": 128,
    "min_new_tokens": None, "num_prompts": 32, "warmup_prompts": 8,
    "dataset": str(repo / "data/prompts.jsonl"), "dataset_column": "text",
    "dataset_split": "train", "seed": 0, "trials": 3, "gpus": 1, "runtime": "process",
    "measurement": {"idle_seconds": 10, "sample_hz": 20, "carbon_intensity_g_per_kwh": 400,
                    "cooldown_timeout_s": 30},
}
(out / "run_config.json").write_text(json.dumps(config, indent=2))
PY

# A failed run still writes its report (status failed, the error): print it either way.
python3 -m energybench run --config "$out/run_config.json" --output "$out/benchmark_report.json" \
    || echo "energybench run exited with $?; the report says why"

python3 - "$out/benchmark_report.json" <<'PY'
import json, sys


def num(value, digits=4):
    return "null" if value is None else f"{value:.{digits}g}"


report = json.load(open(sys.argv[1]))
print(f"\nstatus: {report['status']}  error: {report['error']}")
energy, metrics, summary = report["energy"], report["metrics"], report["summary"]
gpu = energy["components"]["gpu"]
print(f"devices: {gpu['devices']}  source: {gpu['source']}  reason: {gpu['reason']}  "
      f"notes: {gpu['notes']}")
print(f"generated tokens/s: {num(summary['completion_tokens_per_second'])}; prompt + "
      f"generated (AES's throughput): {num(summary['throughput_tokens_per_second'])}; over "
      f"{num(summary['total_duration_seconds'])} s per trial")
print(f"GPU gross {num(gpu['gross_joules'])} J, idle {num(gpu['idle_joules'])} J, "
      f"net {num(gpu['net_joules'])} J (idle power {num(gpu.get('idle_power_watts'))} W)")
stats = (gpu.get("trial_statistics") or {}).get("gross") or {}
print(f"GPU gross per trial: {stats.get('values')}  mean {num(stats.get('mean'))} J, "
      f"95% CI [{num(stats.get('ci_low'))}, {num(stats.get('ci_high'))}], "
      f"CV {num(stats.get('cv'))}")
print(f"J/token (total) {num(metrics['joules_per_token'])}, net J/token "
      f"{num(metrics['net_joules_per_token'])}, GPU Wh/1000 queries "
      f"{num(metrics['wh_per_1000_queries'])}")
for trial in report["trials"]:
    print(f"trial {trial['index']}: {num(trial['duration_s'])} s, cool-down {trial['cooldown']}")
print("checks:")
for check in report["checks"]:
    verdict = {True: "PASS", False: "FAIL", None: "n/a "}[check["passed"]]
    print(f"  {verdict} {check['name']} (trial {check.get('trial', '-')}): {check['detail']}")
for index, detail in enumerate(gpu.get("meter_detail") or []):
    print(f"trial {index}: counter {num(detail.get('counter_j'))} J vs power integral "
          f"{num(detail.get('integral_j'))} J; resolution {num(detail.get('resolution_j'))} J; "
          f"power limit {detail.get('power_limit_w')} W; MIG {detail.get('mig_enabled')}")
load, memory = report.get("load") or {}, report.get("memory") or {}
print(f"model load: {num(load.get('duration_s'))} s from process start "
      f"({num(load.get('metered_s'))} s metered); total gross "
      f"{num((load.get('total') or {}).get('gross_joules'))} J, net "
      f"{num((load.get('total') or {}).get('net_joules'))} J")
print(f"peak memory: GPU in use {memory.get('gpu_used_bytes')} B ({memory.get('gpu_reason')}); "
      f"torch allocated {memory.get('framework_allocated_bytes')} B, reserved "
      f"{memory.get('framework_reserved_bytes')} B; host {memory.get('host_bytes')} B "
      f"({memory.get('host_source')})")
if report.get("phases"):
    decode = report["phases"]["mean"]["gpu"]["decode"]
    print(f"decode GPU energy: mean {num(decode['mean'])} J ({decode['reason']})")
PY
