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

from energybench.tiny import build_tiny_model

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

python3 -m energybench run --config "$out/run_config.json" --output "$out/benchmark_report.json"

python3 - "$out/benchmark_report.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
energy, metrics, summary = report["energy"], report["metrics"], report["summary"]
gpu = energy["components"]["gpu"]
print(f"\nstatus: {report['status']}  error: {report['error']}")
print(f"devices: {gpu['devices']}  source: {gpu['source']}  notes: {gpu['notes']}")
print(f"throughput: {summary['throughput_tokens_per_second']:.1f} tokens/s over "
      f"{summary['total_duration_seconds']:.2f} s per trial")
print(f"GPU gross {gpu['gross_joules']:.1f} J, idle {gpu['idle_joules']:.1f} J, "
      f"net {gpu['net_joules']} J (idle power {gpu['idle_power_watts']:.1f} W)")
stats = gpu["trial_statistics"]["gross"]
print(f"GPU gross per trial: {stats['values']}  mean {stats['mean']:.1f} J, "
      f"95% CI [{stats['ci_low']}, {stats['ci_high']}], CV {stats['cv']}")
print(f"J/token (total) {metrics['joules_per_token']:.4f}, net J/token "
      f"{metrics['net_joules_per_token']}, GPU Wh/1000 queries {metrics['wh_per_1000_queries']:.3f}")
for trial in report["trials"]:
    print(f"trial {trial['index']}: {trial['duration_s']:.2f} s, cool-down {trial['cooldown']}")
print("checks:")
for check in report["checks"]:
    print(f"  {'PASS' if check['passed'] else 'FAIL' if check['passed'] is False else 'n/a '}"
          f" {check['name']} (trial {check.get('trial', '-')}): {check['detail']}")
for index, detail in enumerate(gpu["meter_detail"]):
    print(f"trial {index}: counter {detail.get('counter_j')} J vs power integral "
          f"{detail.get('integral_j')} J; power limit {detail.get('power_limit_w')} W; "
          f"MIG {detail.get('mig_enabled')}")
decode = report["phases"]["mean"]["gpu"]["decode"]
print(f"decode GPU energy: mean {decode['mean']} J ({decode['reason']})")
PY
