"""The vLLM backend: streaming load over the OpenAI API to a vLLM server, managed or external.

*Managed*: the backend starts a vLLM server for the model (`ManagedVLLMServer`, its log kept in
the run directory) and stops it when the engine closes the backend, whatever happened.
*External*: the load goes to a configured endpoint; whatever serves it runs elsewhere, so no
energy figure of this machine belongs to the run (`uncounted`).

Each trial sends every prompt (`energybench.run.backends.vllm.loadgen`) inside one monitor window, the
whole load, and a second window, opened and closed live, measures the steady state: from the
moment the server's batch is full (L requests decoding, L = concurrency capped by max_num_seqs)
to the moment the queue starts to drain (loadgen.schedule's definition), with the counters where
the machine has them. The steady state counts only when its batch stayed full (the records'
check). Warm-up requests go before the trials and are not counted.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from energybench.run.backends import Backend, Trial, latencies, resolve_device, throughputs
from energybench.run.settings import RunConfig
from energybench.run.model_settings import MANAGED_ONLY
from energybench.run.files import json_text
from energybench.run.backends.vllm.endpoint import (
    ROUTE_ERRORS,
    Endpoint,
    EndpointURLError,
    get_server_route,
)
from energybench.run.backends.vllm.loadgen import (
    MAX_CHUNKS_READ_TOGETHER,
    LoadResult,
    LoadSettings,
    Phase,
    auth_headers,
    run_load,
)
from energybench.run.energy.checks import check_stream_read_on_time
from energybench.run.prompts import load_prompts
from energybench.run.report import COMPONENTS
from energybench.run.backends.vllm.server import ManagedVLLMServer
from energybench.run.backends.vllm.settings import EXTERNAL, VLLMSettings

log = logging.getLogger(__name__)

SERVER_LOG_NAME = "vllm_server.log"
REQUESTS_NAME = "requests.jsonl"
EXTERNAL_ENDPOINT = "external endpoint: its hardware is not metered here"
LOCAL_ENDPOINT_SHARED = (
    "external endpoint on this machine: only the GPUs named in "
    "vllm.meter_devices are metered; CPU and RAM are shared with the load "
    "generator"
)
LATENCY_METRICS = ("ttft_s", "itl_s", "tpot_s", "e2e_latency_s")
_VERSION_TIMEOUT_S = 5.0


def load_settings(cfg: RunConfig) -> LoadSettings:
    """What the load generator sends for this model: the model's `vllm` block (how fast, and
    how the server is asked), and the run's output length, reasoning switches and seed."""
    settings: VLLMSettings = cfg.backend_settings
    min_tokens = cfg.effective_min_new_tokens
    thinking = cfg.reasoning_params.get("enable_thinking")
    if thinking is None and settings.api == "chat":
        thinking = cfg.reasoning  # as the pytorch backend does: the template follows `reasoning`
    return LoadSettings(
        model=settings.served_model_name,
        serving=settings,
        max_tokens=cfg.max_new_tokens,
        fixed_output_length=min_tokens >= cfg.max_new_tokens,
        extra_body=({"min_tokens": min_tokens} if 0 < min_tokens < cfg.max_new_tokens else {})
        | ({} if cfg.temperature is None else {"temperature": cfg.temperature}),
        seed=cfg.seed,
        reasoning_effort=cfg.reasoning_params.get("reasoning_effort"),
        enable_thinking=thinking,  # config_problems refuses it without the chat API
    )


def load_summary(result: LoadResult, duration_s: float) -> dict:
    """The AI Energy Score summary figures of one load, over a window of ``duration_s``.
    Latencies and tokens are those of the successful requests; tokens are the server's usage."""
    ok = [r for r in result.records if r.ok]
    prompt_tokens = sum(r.prompt_tokens or 0 for r in ok)
    completion_tokens = sum(r.output_tokens or 0 for r in ok)
    ttfts = [r.ttft_s for r in ok if r.ttft_s is not None]
    return {
        "total_prompts": len(result.records),
        "successful_prompts": len(ok),
        "failed_prompts": result.failed_requests,
        "total_duration_seconds": duration_s,
        # Requests run alone only at concurrency 1 (AES's vLLM runner sends them one by one).
        **latencies(
            statistics.fmean(r.e2e_latency_s for r in ok) if ok else None,
            statistics.fmean(ttfts) if ttfts else None,
            alone=result.settings.serving.concurrency == 1,
        ),
        "total_tokens": prompt_tokens + completion_tokens,
        "total_prompt_tokens": prompt_tokens,
        "total_completion_tokens": completion_tokens,
        **throughputs(prompt_tokens + completion_tokens, completion_tokens, duration_s),
    }


def latency_samples(result: LoadResult) -> dict[str, list[float]]:
    """Every successful request's latencies (seconds), per metric, for summaries over trials."""
    ok = [r for r in result.records if r.ok]
    return {
        "ttft_s": [r.ttft_s for r in ok if r.ttft_s is not None],
        "itl_s": [gap for r in ok for gap in r.inter_token_latencies_s],
        "tpot_s": [r.tpot_s for r in ok if r.tpot_s is not None],
        "e2e_latency_s": [r.e2e_latency_s for r in ok],
    }


def keep_off_cpus(pinned: set[int]) -> dict:
    """Move every thread of this process (the load generator, the meters) off the CPUs a local
    server pins its engine to. vLLM's CPU backend binds its worker's OpenMP threads, which spin
    while they wait, to cores of their own and keeps the rest for its API server: a client
    placed on a worker's core runs only between the worker's time slices and reads each stream
    late, in one burst (docs/PERFORMANCE.md, section 1: first tokens read long after the
    server produced them). Nothing moves when nothing is pinned (GPUs) or when no other CPU
    is left."""
    allowed = os.sched_getaffinity(0)
    free = allowed - pinned
    if not pinned or not free:
        return {
            "server_pinned_cpus": sorted(pinned),
            "client_cpus": sorted(allowed),
            "moved": False,
        }
    for thread in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(thread), free)
    return {"server_pinned_cpus": sorted(pinned), "client_cpus": sorted(free), "moved": True}


class VLLMBackend(Backend):
    name = "vllm"

    @classmethod
    def parse_settings(cls, run_config: Mapping) -> VLLMSettings:
        return VLLMSettings.from_run_config(run_config)

    @classmethod
    def sent_to(cls, run_config: dict, url: str) -> dict:
        """``run_config`` as an external model of the server at ``url``, keeping the serving
        settings of its entry that apply to one (the load, metering) and dropping those of a
        managed server (energybench.run.model_settings.MANAGED_ONLY)."""
        kept = {k: v for k, v in (run_config.get("vllm") or {}).items() if k not in MANAGED_ONLY}
        return {
            **run_config,
            "backend": cls.name,
            "vllm": {**kept, "mode": EXTERNAL, "endpoint": url},
        }

    @classmethod
    def resources(cls, run_config: dict) -> dict[str, int]:
        # One slot of `endpoint` for a load sent to an external endpoint (rules/benchmark.smk).
        return {"endpoint": 1} if cls.parse_settings(run_config).external else {}

    @classmethod
    def gpus_when_auto(cls, run_config: dict) -> int:
        # A managed server's tensor-parallel GPUs; none for a load sent elsewhere.
        settings = cls.parse_settings(run_config)
        return 0 if settings.external else settings.tensor_parallel_size or 1

    @classmethod
    def secrets(cls, run_config: dict) -> dict[str, str]:
        api_key_env = cls.parse_settings(run_config).api_key_env
        return {api_key_env: "vllm.api_key_env"} if api_key_env else {}

    @classmethod
    def config_problems(cls, run_config: dict) -> list[str]:
        settings = cls.parse_settings(run_config)
        problems = []
        if not settings.external and run_config["runtime"] not in ("process", "auto"):
            problems.append(
                f"a managed vLLM server runs as a process beside the run; runtime "
                f"{run_config['runtime']!r} is not supported for it yet (use "
                "runtime: process)"
            )
        thinking = (run_config.get("reasoning_params") or {}).get("enable_thinking")
        if thinking is not None and settings.api != "chat":
            problems.append(
                "reasoning_params.enable_thinking is a chat template setting; it "
                "needs vllm.api: chat"
            )
        parallel = settings.tensor_parallel_size
        if parallel is not None and parallel > max(run_config["gpus"], 1):
            problems.append(
                f"vllm.tensor_parallel_size ({parallel}) needs that many GPUs but "
                f"gpus is {run_config['gpus']} (the GPUs the job holds); set "
                f"gpus: {parallel}"
            )
        return problems

    @classmethod
    def metered_gpus(cls, cfg: RunConfig) -> list[int | str] | None:
        # An external endpoint on this machine: the GPUs its server runs on (vllm.meter_devices).
        return cfg.backend_settings.local_gpus_to_meter

    def __init__(self, cfg: RunConfig, run_dir: Path):
        self.cfg = cfg
        self.settings: VLLMSettings = cfg.backend_settings
        self.load = load_settings(cfg)
        prompts = load_prompts(
            cfg.dataset,
            cfg.num_prompts + cfg.warmup_prompts,
            cfg.dataset_column,
            cfg.dataset_split,
            cfg.prompt_prefix,
        )
        self.prompts, self.warmup_prompts = prompts[: cfg.num_prompts], prompts[cfg.num_prompts :]
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        self.requests_path = Path(run_dir) / REQUESTS_NAME
        self.requests_path.unlink(missing_ok=True)
        self.warmup: dict | None = None
        self.server: ManagedVLLMServer | None = None
        self.placement: dict | None = None
        self._resources = ExitStack()
        if self.settings.external:
            self.device = "external"
            try:
                self.endpoint = Endpoint.from_url(self.settings.endpoint)
            except EndpointURLError as error:
                raise ValueError(f"model {cfg.model}: vllm.endpoint: {error}") from None
            if self.settings.meter_devices and not self.endpoint.on_this_machine:
                raise ValueError(
                    f"model {cfg.model}: vllm.meter_devices meters GPUs of this machine, but "
                    f"the endpoint {self.settings.endpoint} is not on it (use localhost, "
                    "127.0.0.1 or ::1), or leave meter_devices out"
                )
            self.server_info = self._external_server_info()
            return
        # Which components count: the server runs on this machine, on its GPUs where it has some.
        self.device = resolve_device(cfg.device, cfg.gpus_held)
        # Started last: nothing after it can fail, so the engine's `with` always stops it.
        self.server = self._resources.enter_context(
            ManagedVLLMServer(
                cfg.id,
                Path(run_dir) / SERVER_LOG_NAME,
                self.settings,
                dtype=None if cfg.dtype == "auto" else cfg.dtype,
            )
        )
        self.endpoint = self.server.endpoint
        log.info(
            "vLLM %s serves %s at %s (started in %.1f s)",
            self.server.version,
            self.settings.served_model_name,
            self.endpoint,
            self.server.startup_s,
        )
        self.placement = keep_off_cpus(self.server.pinned_cpus())

    @property
    def uncounted(self) -> dict[str, str]:
        if self.settings.external and self.settings.meter_devices:
            return {"cpu": LOCAL_ENDPOINT_SHARED, "ram": LOCAL_ENDPOINT_SHARED}
        if self.settings.external:
            return dict.fromkeys(COMPONENTS, EXTERNAL_ENDPOINT)
        return super().uncounted

    def close(self) -> None:
        self._resources.close()

    def _external_server_info(self) -> dict:
        """The version an external server reports at /version (vLLM does), if it answers."""
        headers = auth_headers(self.settings.api_key_env, self.settings.served_model_name)
        try:
            body = get_server_route(self.endpoint.version_url, _VERSION_TIMEOUT_S, headers)
            return {"version": json.loads(body)["version"], "version_reason": None}
        except (*ROUTE_ERRORS, ValueError, KeyError, TypeError) as error:
            return {
                "version": None,
                "version_reason": f"{self.endpoint.version_url} gave no version: {error!r}",
            }

    def info(self) -> dict:
        served = (
            self.server.provenance()
            if self.server
            else {"engine": "external", "endpoint": self.endpoint.base_url, **self.server_info}
        )
        return {
            "name": "vllm",
            "mode": self.settings.mode,
            "device": self.device,
            "endpoint": self.endpoint.base_url,
            # An external endpoint on this machine: the local GPUs metered for it, if any.
            "metered_local_gpus": list(self.settings.meter_devices or []) or None,
            "served_model_name": self.settings.served_model_name,
            "settings": self.settings.model_dump(),
            "load": self.load.to_dict(),
            "server": served,
            "warmup": self.warmup,
            "requests_file": REQUESTS_NAME,
            "client_placement": self.placement,
        }

    def warm_up(self) -> None:
        """Send the warm-up prompts (not counted); a load that cannot start raises LoadError."""
        if not self.warmup_prompts:
            return
        result = run_load(self.endpoint, self.warmup_prompts, self.load)
        self.warmup = {"requests": len(result.records), "failed": result.failed_requests}
        if result.failed_requests:
            log.warning(
                "%d of %d warm-up requests failed", result.failed_requests, len(result.records)
            )

    def run_trial(self, index: int, monitor) -> Trial:
        """The whole load inside one window, and the steady state inside a second one, opened
        and closed live at the load's phases so that a counter measures it (loadgen.schedule)."""
        moments: dict[Phase, float] = {}
        steady_name = f"trial{index}.steady_state"
        steady_window = None

        def note_phase(phase: Phase, unix_time: float) -> None:
            nonlocal steady_window
            moments[phase] = monitor.now()  # the monitor's clock, not the wall clock
            if phase is Phase.SATURATED:
                monitor.begin_window(steady_name)
            elif phase is Phase.DRAINING:
                steady_window = monitor.end_window(steady_name)

        name = f"trial{index}.load"
        monitor.begin_window(name)
        try:
            result = run_load(self.endpoint, self.prompts, self.load, on_phase=note_phase)
        finally:
            window = monitor.end_window(name)
            if Phase.SATURATED in moments and Phase.DRAINING not in moments:
                monitor.end_window(steady_name)  # the load broke off: no steady state to keep
        log.info(
            "trial %d: %d of %d requests succeeded in %.2f s",
            index,
            len(result.records) - result.failed_requests,
            len(result.records),
            result.duration_s,
        )
        self._keep_requests(index, result)

        load = result.statistics()
        steady, steady_window = self._steady_state(moments, result.phase_times, load, steady_window)
        return Trial(
            index=index,
            summary=load_summary(result, window.duration_s),
            window=window,
            phase_windows={"steady_state": steady_window} if steady_window else {},
            extra={
                "load": load,
                "latency_samples": latency_samples(result),
                "steady_state": steady,
                "requests_file": REQUESTS_NAME,
            },
            failure=result.failure_reason,
            checks=[
                check_stream_read_on_time(
                    load["chunks_read_together_share"], max_share=MAX_CHUNKS_READ_TOGETHER
                )
            ],
        )

    @staticmethod
    def _steady_state(moments: dict, phase_times, load: dict, window):
        """The steady state's edges (monitor clock), tokens, batch check and, when the server
        was saturated with a full batch for a measurable time, its window."""
        start, end = moments.get(Phase.SATURATED), moments.get(Phase.DRAINING)
        limit = phase_times.concurrency_limit
        steady = {
            "start_s": start,
            "end_s": end,
            "duration_s": None,
            "output_tokens": None,
            "concurrency_limit": limit,
            "mean_decoding_requests": None,
            "batch_full": None,
            "reason": None,
        }
        if start is None or end is None:
            steady["reason"] = (
                f"never {limit} requests decoding at once: the request rate is "
                "too low for the concurrency, so the server never saturated"
            )
            return steady, None
        steady["duration_s"] = end - start
        summary = load["steady_state"]
        if summary is None or not end > start:
            steady["reason"] = "the server was saturated for no measurable time"
            return steady, None
        steady["output_tokens"] = summary["output_tokens"]
        steady["mean_decoding_requests"] = summary["mean_decoding_requests"]
        steady["batch_full"] = summary["batch_full"]
        if not summary["batch_full"]:
            steady["reason"] = summary["batch_reason"]
            return steady, None
        return steady, window

    def _keep_requests(self, index: int, result: LoadResult) -> None:
        """Append every request of the trial to the run's requests file (JSON lines)."""
        with self.requests_path.open("a") as handle:
            for request in result.to_dict()["requests"]:
                handle.write(json_text({"trial": index, **request}, indent=None) + "\n")
