"""The vLLM backend through the engine, against the fake OpenAI server (external mode) and with
a managed server that cannot start; tests/backends/test_vllm_pipeline.py runs both modes on a real vLLM."""

import json
import re

import pytest
import yaml
from conftest import REPO_ROOT
from fake_openai_server import (
    FIRST_TOKEN_DELAY_S,
    PROMPT_TOKENS,
    TOKEN_DELAY_S,
    FakeOpenAIServer,
    Fault,
)

from energybench.run import benchmark
from energybench.run.backends.vllm.backend import EXTERNAL_ENDPOINT, REQUESTS_NAME
from energybench.run.errors import ConfigError
from energybench.run.settings import RunConfig
from energybench.plan.config import check_models_document, load_yaml, resolve_model
from energybench.plan.consistency import check_run_configs
from energybench.run.backends.vllm.loadgen import LoadSettings
from energybench.run.report import read_report, validate_report
from energybench.run.backends.vllm.server import PYTHON_ENV_VAR
from energybench.run.backends.vllm.settings import VLLMSettings

MODEL = "served-tiny"


@pytest.fixture
def server():
    with FakeOpenAIServer(models=("tiny",)) as fake:
        yield fake


def write_prompts(path, prompts):
    path.write_text("".join(json.dumps({"text": p}) + "\n" for p in prompts))
    return str(path)


def run_config(tmp_path, vllm, prompts, warmup_prompts=0, **settings):
    """A resolved run config of the shipped defaults for a vLLM model served as `tiny`."""
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    dataset = write_prompts(tmp_path / "prompts.jsonl", prompts)
    entry = {
        "id": "tiny",
        "backend": "vllm",
        **({"vllm": vllm} if vllm else {}),
        "dataset": dataset,
        "num_prompts": len(prompts) - warmup_prompts,
        "warmup_prompts": warmup_prompts,
        "max_new_tokens": 4,
        **settings,
    }
    return resolve_model(
        MODEL, entry, config["defaults"], config["measurement"] | {"idle_seconds": 0.3}
    )


def run(config, tmp_path):
    output = tmp_path / "run" / "benchmark_report.json"
    code = benchmark.run(config, output)
    report = read_report(output)
    validate_report(report)
    assert code == (0 if report["status"] == "succeeded" else 1)
    return report, output.parent


def test_external_endpoint_gives_latencies_and_throughput_and_no_energy(server, tmp_path):
    prompts = [f"prompt {i}" for i in range(8)]
    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "concurrency": 3},
        prompts,
        warmup_prompts=2,
    )
    report, run_dir = run(config, tmp_path)

    assert report["status"] == "succeeded", report["error"]
    assert len(server.bodies) == 8  # 2 warm-up requests, sent but not counted
    summary = report["summary"]
    assert (summary["total_prompts"], summary["successful_prompts"], summary["failed_prompts"]) == (
        6,
        6,
        0,
    )
    assert summary["total_prompt_tokens"] == 6 * PROMPT_TOKENS  # the server's usage
    assert summary["total_completion_tokens"] == 6 * 4
    assert (
        summary["throughput_tokens_per_second"] > 0
        and summary["avg_served_time_to_first_token"] > 0
    )
    # three requests in flight at once: none was timed alone, as AES's figure needs
    assert summary["avg_latency_seconds"] is None and summary["avg_time_to_first_token"] is None
    latency = report["latency"]
    assert latency["ttft_s"]["count"] == 6 and latency["e2e_latency_s"]["count"] == 6
    assert latency["itl_s"]["count"] == 6 * 3 and latency["tpot_s"]["p99"] > 0
    assert latency["trials"][0]["requests"] == 6
    requests = (run_dir / REQUESTS_NAME).read_text().splitlines()
    assert [json.loads(line)["index"] for line in requests] == list(range(6))

    energy = report["energy"]
    for block in [*energy["components"].values(), energy["total"]]:
        assert block["gross_joules"] is None and block["reason"] == EXTERNAL_ENDPOINT
    assert energy["gpu_energy_wh"] is None and energy["total_energy_wh"] is None
    assert report["metrics"]["joules_per_token"] is None
    assert all(e["gross_joules"] is None for e in report["trials"][0]["energy"].values())
    assert not any(c["name"].endswith("_power_in_range") for c in report["checks"])
    # the fake server paces its tokens; a client that keeps up reads them one by one
    [stream] = [c for c in report["checks"] if c["name"] == "stream_read_on_time"]
    assert stream["passed"] is True and stream["trial"] == 0 and stream["severity"] == "warning"

    steady = report["steady_state"]["trials"][0]
    assert steady["duration_s"] > 0 and steady["output_tokens"] > 0
    # Four-token streams after a 50 ms first token: a finished request's successor leaves a gap
    # in the batch for a third of each request, so the batch was not full and the window is kept
    # out, saying why.
    assert steady["batch_full"] is False and steady["mean_decoding_requests"] < 0.9 * 3
    assert "requests were decoding in the steady state" in steady["reason"]
    assert steady["total_gross_joules"] is None
    backend = report["provenance"]["backend"]
    assert (backend["mode"], backend["endpoint"]) == ("external", server.url)
    assert backend["server"]["version"] is None and backend["server"]["version_reason"]


def test_recorded_token_times_follow_the_servers_pacing_inside_the_engine(server, tmp_path):
    # The load runs inside the engine as in the pipeline: the meters' sampler thread (here at
    # 100 Hz), the monitor window and the phase callbacks. The fake server sends a token every
    # TOKEN_DELAY_S, so a stream read late, in one burst, would show a spread far below that.
    tokens = 12
    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "concurrency": 3},
        [f"p{i}" for i in range(8)],
        warmup_prompts=2,
        max_new_tokens=tokens,
    )
    config["measurement"]["sample_hz"] = 100
    report, run_dir = run(config, tmp_path)
    assert report["status"] == "succeeded", report["error"]
    assert report["provenance"]["meters"]["sampler"]["ticks"] > 10
    for request in map(json.loads, (run_dir / REQUESTS_NAME).read_text().splitlines()):
        assert request["ttft_s"] >= FIRST_TOKEN_DELAY_S
        spread = sum(request["inter_token_latencies_s"])
        assert spread >= 0.8 * (tokens - 1) * TOKEN_DELAY_S, request
        assert sorted(request["inter_token_latencies_s"])[tokens // 2] >= 0.5 * TOKEN_DELAY_S, (
            request
        )
    # Connections opened before each load and kept alive: one per concurrent request of the
    # warm-up and of the trial, and the one that asked the external server for its version.
    assert server.connections <= 3 + 3 + 1
    assert server.posts_on_new_connections == 0


def test_the_steady_state_window_is_opened_and_closed_live_with_the_counters(server, tmp_path):
    # Issue 10 item 9: the steady state is measured by a window the monitor opens and closes at
    # the load's phases, which reads the counters (here the CPU estimate's /proc/stat counter),
    # not by integrating sampled power after the fact. Long streams keep the batch full.
    from energybench.run.backends.vllm.backend import VLLMBackend
    from energybench.run.meters import EnergyMonitor

    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "concurrency": 2},
        [f"p{i}" for i in range(4)],
        max_new_tokens=30,
    )
    with (
        EnergyMonitor.create(sample_hz=10) as monitor,
        VLLMBackend(RunConfig.from_dict(config), tmp_path / "run") as backend,
    ):
        trial = backend.run_trial(0, monitor)
    steady, window = trial.extra["steady_state"], trial.phase_windows["steady_state"]
    assert steady["batch_full"] and steady["reason"] is None
    assert window.name == "trial0.steady_state"
    assert window.start_s == pytest.approx(steady["start_s"], abs=0.05)
    assert window.end_s == pytest.approx(steady["end_s"], abs=0.05)
    cpu = window.components["cpu"]
    assert "run_cpu_seconds" in cpu.detail and "integrated_from" not in cpu.detail


def test_a_load_that_never_saturates_has_no_steady_state_and_says_why(server, tmp_path):
    # seed 0 spaces three arrivals at 2/s by more than a request takes, so never 2 in flight
    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "concurrency": 2, "request_rate": 2.0},
        ["a", "b", "c"],
    )
    report, _ = run(config, tmp_path)
    assert report["status"] == "succeeded"
    steady = report["steady_state"]
    assert steady["energy"] is None and steady["trials"][0]["duration_s"] is None
    assert "never 2 requests decoding at once" in steady["trials"][0]["reason"]
    assert steady["reason"].startswith(
        "no trial had a steady-state window: never 2 requests decoding"
    )


def test_failure_share_above_the_limit_marks_the_run_failed_keeping_its_figures(server, tmp_path):
    prompts = [Fault.HTTP_500, "a", "b", "c"]
    config = run_config(
        tmp_path, {"mode": "external", "endpoint": server.url, "max_failure_share": 0.2}, prompts
    )
    report, _ = run(config, tmp_path)

    assert report["status"] == "failed"
    assert report["error"]["type"] == "TooManyFailedRequests"
    assert "1 of 4 requests to model 'tiny'" in report["error"]["message"]
    assert server.url in report["error"]["message"]
    assert (report["summary"]["successful_prompts"], report["summary"]["failed_prompts"]) == (3, 1)
    assert report["latency"]["trials"][0]["errors_by_kind"] == {"http_status": 1}


def test_failures_within_the_allowed_share_are_counted_and_the_run_succeeds(server, tmp_path):
    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "max_failure_share": 0.25},
        [Fault.HTTP_500, "a", "b", "c"],
    )
    report, _ = run(config, tmp_path)
    assert report["status"] == "succeeded"
    assert report["summary"]["failed_prompts"] == 1 and report["latency"]["ttft_s"]["count"] == 3


def test_unreachable_endpoint_gives_a_failed_report_naming_model_and_endpoint(tmp_path):
    from energybench.run.backends.vllm.server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    config = run_config(
        tmp_path, {"mode": "external", "endpoint": url}, ["a", "b"], warmup_prompts=1
    )
    report, _ = run(config, tmp_path)
    assert report["status"] == "failed"
    assert (
        f"Cannot connect to the endpoint for model 'tiny' at endpoint {url}"
        in report["error"]["message"]
    )
    assert report["energy"]["total"]["gross_joules"] is None


def test_managed_server_that_cannot_start_gives_a_failed_report(tmp_path, monkeypatch):
    monkeypatch.setenv(PYTHON_ENV_VAR, str(tmp_path / "no-such-python"))
    config = run_config(tmp_path, {"mode": "managed"}, ["a"])
    report, _ = run(config, tmp_path)
    assert report["status"] == "failed" and report["error"]["type"] == "ServerStartError"
    assert "no Python interpreter" in report["error"]["message"]


# --- settings ---


def test_the_block_is_parsed_once_with_its_defaults_and_served_names(tmp_path):
    managed = RunConfig.from_dict(run_config(tmp_path, None, ["a"])).backend_settings
    assert isinstance(managed, VLLMSettings)
    assert (managed.mode, managed.served_model_name, managed.concurrency) == ("managed", MODEL, 8)
    assert managed.request_rate is None and managed.extra_args == ()
    external = RunConfig.from_dict(
        run_config(tmp_path, {"mode": "external", "endpoint": "http://h:8021/v1"}, ["a"])
    ).backend_settings
    assert external.external and external.served_model_name == "tiny"


def test_the_block_stays_as_written_in_the_run_config_and_its_digest(tmp_path):
    """Defaults are filled when the block is parsed, never written back: the report's config
    and the digest are those of the settings as the workflow resolved them."""
    written = run_config(tmp_path, {"mode": "managed", "concurrency": 8}, ["a"])
    cfg = RunConfig.from_dict(written)
    assert cfg.to_dict()["vllm"] == {"mode": "managed", "concurrency": 8}
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    assert "vllm" not in RunConfig.from_dict(run_config(tmp_path, None, ["a"])).to_dict()
    assert (
        cfg.digest()
        != RunConfig.from_dict(run_config(tmp_path, {"mode": "managed"}, ["a"])).digest()
    )


def test_the_schema_declares_no_default_of_the_block():
    """The block's defaults are declared in its model (VLLMSettings reads the block with them);
    the schema generated from it checks the fields and declares no default."""
    block = load_yaml(REPO_ROOT / "src/energybench/run/schemas/model_settings.schema.json")[
        "properties"
    ]["vllm"]
    assert not [name for name, spec in block["properties"].items() if "default" in spec]
    assert set(block["properties"]) == set(VLLMSettings.model_fields)


def test_the_docs_state_the_defaults_of_the_settings_type():
    """docs/vllm.md's table of the block gives each field's default as VLLMSettings does."""
    rows = re.findall(
        r"^\| `(\w+)` \| `([^`]*)` \|", (REPO_ROOT / "docs/vllm.md").read_text(), re.M
    )
    defaults = {name: field.default for name, field in VLLMSettings.model_fields.items()}
    assert len(rows) >= 7
    for name, documented in rows:
        assert yaml.safe_load(documented) == (
            list(defaults[name]) if isinstance(defaults[name], tuple) else defaults[name]
        ), name


def test_load_settings_follow_the_run_config(tmp_path):
    from energybench.run.backends.vllm.backend import load_settings

    cfg = RunConfig.from_dict(
        run_config(
            tmp_path,
            {"api": "chat", "request_rate": 4.0},
            ["a"],
            reasoning=True,
            reasoning_params={"reasoning_effort": "low"},
            max_new_tokens=16,
        )
    )
    load = load_settings(cfg)
    assert isinstance(load, LoadSettings) and load.serving is cfg.backend_settings
    assert (load.model, load.serving.api, load.max_tokens, load.serving.request_rate) == (
        MODEL,
        "chat",
        16,
        4.0,
    )
    assert not load.fixed_output_length  # reasoning: the model decides when to stop
    assert (load.enable_thinking, load.reasoning_effort) == (True, "low")


def test_thinking_switch_without_the_chat_api_is_refused_before_any_run_naming_the_model(tmp_path):
    config = run_config(tmp_path, None, ["a"], reasoning_params={"enable_thinking": False})
    message = (
        rf"model '{MODEL}': reasoning_params.enable_thinking is a chat template setting; "
        "it needs vllm.api: chat"
    )
    with pytest.raises(ConfigError, match=message):
        check_run_configs({MODEL: config})
    with pytest.raises(ConfigError, match="run config: reasoning_params.enable_thinking"):
        RunConfig.validated(config)  # a run config written by hand
    check_run_configs(
        {
            MODEL: run_config(
                tmp_path, {"api": "chat"}, ["a"], reasoning_params={"enable_thinking": False}
            )
        }
    )


def models_doc(entry):
    return {"models": {"m": {"id": "org/name", **entry}}}


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"backend": "vllm", "vllm": {"mode": "external"}},
            r"field 'vllm': 'endpoint' is a required property",
        ),
        (
            {"backend": "vllm", "vllm": {"endpoint": "http://h:8000/v1"}},
            r"field 'vllm.endpoint'.*only with mode external",
        ),
        (
            {
                "backend": "vllm",
                "vllm": {"mode": "external", "endpoint": "http://h/v1", "max_model_len": 512},
            },
            r"field 'vllm.max_model_len'.*not with mode external",
        ),
        ({"vllm": {"mode": "managed"}}, r"'backend' is a dependency of 'vllm'"),
        ({"backend": "pytorch", "vllm": {}}, r"field 'backend': 'vllm' was expected"),
        ({"backend": "vllm", "vllm": {"api_key_env": "sk-123"}}, r"field 'vllm.api_key_env'"),
        (
            {"backend": "vllm", "vllm": {"api": "responses"}},
            r"field 'vllm.api': 'responses' is not one of",
        ),
        (
            {"backend": "vllm", "vllm": {"concurrency": 0}},
            r"field 'vllm.concurrency': 0 is less than",
        ),
        (
            {"backend": "vllm", "vllm": {"request_rate": 0}},
            r"field 'vllm.request_rate': 0 is less than or equal",
        ),
        (
            {"backend": "vllm", "vllm": {"max_failure_share": 1.5}},
            r"field 'vllm.max_failure_share': 1.5 is greater",
        ),
        (
            {"backend": "vllm", "vllm": {"max_num_seqs": 0}},
            r"field 'vllm.max_num_seqs': 0 is less than",
        ),
        ({"backend": "vllm", "max_new_tokens": 0}, r"field 'max_new_tokens': 0 is less than"),
    ],
)
def test_invalid_vllm_settings_are_refused_before_any_run_naming_model_and_field(entry, message):
    schema = load_yaml(REPO_ROOT / "config/schemas/models.schema.yaml")
    with pytest.raises(ConfigError, match=message):
        check_models_document(models_doc(entry), schema, "models.yaml")


def test_only_external_vllm_models_take_an_endpoint_slot():
    from energybench.run.backends.vllm.backend import VLLMBackend

    model = {"model": "m", "id": "org/m", "backend": "vllm"}
    assert VLLMBackend.resources(model | {"vllm": {"mode": "external"}}) == {"endpoint": 1}
    assert VLLMBackend.resources(model | {"vllm": {"mode": "managed"}}) == {}
    assert VLLMBackend.resources(model) == {}


def test_external_endpoint_on_this_machine_meters_the_named_local_gpus(
    server, tmp_path, monkeypatch
):
    """AES meters the local GPUs of an endpoint served on the same machine; meter_devices
    names them, and the report says which and that CPU and RAM are not the run's."""
    from fake_nvml import FakeGpu, FakeNvml

    from energybench.run.backends.vllm.backend import LOCAL_ENDPOINT_SHARED
    from energybench.run.meters import EnergyMonitor

    nvml = FakeNvml([FakeGpu("GPU-idle", power_w=50.0), FakeGpu("GPU-served", power_w=300.0)])
    create = EnergyMonitor.create.__func__
    monkeypatch.setattr(
        EnergyMonitor,
        "create",
        classmethod(lambda cls, **kwargs: create(cls, nvml=nvml, environ={}, **kwargs)),
    )
    config = run_config(
        tmp_path,
        {"mode": "external", "endpoint": server.url, "meter_devices": [1]},
        ["a", "b", "c"],
    )
    report, _ = run(config, tmp_path)
    assert report["status"] == "succeeded", report["error"]
    gpu = report["energy"]["components"]["gpu"]
    assert gpu["gross_joules"] > 0 and gpu["devices"] == ["gpu1"]  # the served one only
    for name in ("cpu", "ram"):
        component = report["energy"]["components"][name]
        assert component["gross_joules"] is None and component["reason"] == LOCAL_ENDPOINT_SHARED
    assert report["provenance"]["backend"]["metered_local_gpus"] == [1]

    remote = run_config(
        tmp_path,
        {"mode": "external", "endpoint": "http://gpu-host:8000/v1", "meter_devices": [0]},
        ["a"],
    )
    report, _ = run(remote, tmp_path)
    assert report["status"] == "failed"
    assert "meter_devices meters GPUs of this machine" in report["error"]["message"]
