"""Streaming load generator for OpenAI-compatible inference servers (vLLM and others).

`run_load` sends one streaming request per prompt to `/v1/completions` or `/v1/chat/completions`
and records, per request, the time to first token, the inter-token latencies, the end-to-end
latency and the prompt and output token counts that the *server* reports in its usage chunk
(`stream_options.include_usage`), or the error that ended the request.

Scheduling: requests arrive at Poisson times (exponential gaps from a seeded RNG, so a schedule is
reproducible) or all at once (`request_rate=inf`); at most `concurrency` are in flight, later
arrivals wait for a free slot in arrival order. Warm-up requests run first, to completion, and are
not counted.

Steady-state window (for energy): with L = min(concurrency, number of measured requests),
- *saturated* is the first moment at which L measured requests are in flight;
- *draining* is the first moment, at or after the last measured request was sent, at which fewer
  than L requests are in flight (the queue is empty and the server's batch starts to shrink).
The window runs from *saturated* to *draining*. In between, in-flight may dip for an instant when a
request finishes and the next waiting one takes its slot, or for longer when Poisson arrivals are
sparse; the window still spans those dips. If in-flight never reaches L (a request rate too low for
the concurrency), there is no steady-state window. The moments are reported to an optional
`on_phase(phase, unix_time)` callback as they happen (so a caller can open and close an energy
window) and kept in `LoadResult.timeline`.

Every request is bounded by `request_timeout_s` (connect, each read, and the whole request), so a
run cannot hang. Errors of single requests are recorded and counted; a run whose failure share
exceeds `max_failure_share` is marked failed. Problems that would fail every request (the endpoint
refuses connections, does not serve the model, wants an API key) raise `LoadError` before the load.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

import httpx
import numpy as np

from energybench.backends.vllm.endpoint import Endpoint
from energybench.progress import Progress

log = logging.getLogger(__name__)

_ERROR_BODY_CHARS = 500


class LoadError(RuntimeError):
    """The load cannot run at all against this endpoint and model."""


class Phase(StrEnum):
    """Moments of the measured load, reported to `on_phase` callbacks (see the module docstring)."""

    START = "start"
    SATURATED = "saturated"
    DRAINING = "draining"
    END = "end"


class ErrorKind(StrEnum):
    HTTP_STATUS = "http_status"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    MALFORMED_STREAM = "malformed_stream"
    SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class LoadSettings:
    """What to send and how fast. `model` is the name the server serves the model under."""

    model: str
    api: Literal["completions", "chat"] = "completions"
    max_tokens: int = 128
    fixed_output_length: bool = True
    """Ask for exactly `max_tokens` (vLLM's `min_tokens` and `ignore_eos`; not OpenAI's own API)."""
    concurrency: int = 1
    request_rate: float = math.inf
    """Mean arrivals per second (Poisson); `inf` sends every request at once."""
    warmup_requests: int = 0
    seed: int = 0
    request_timeout_s: float = 300.0
    connect_timeout_s: float = 10.0
    max_failure_share: float = 0.0
    reasoning_effort: str | None = None
    enable_thinking: bool | None = None
    """Sent as `chat_template_kwargs.enable_thinking` (chat API only)."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the API key (the key itself never appears here)."""
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    """Further request fields (e.g. `temperature`), sent as given; they override the fields above."""

    def __post_init__(self) -> None:
        problems = []
        if self.api not in ("completions", "chat"):
            problems.append(f"api must be 'completions' or 'chat', not {self.api!r}")
        if self.max_tokens < 1:
            problems.append(f"max_tokens must be at least 1, not {self.max_tokens}")
        if self.concurrency < 1:
            problems.append(f"concurrency must be at least 1, not {self.concurrency}")
        if not self.request_rate > 0:
            problems.append(f"request_rate must be positive (or inf), not {self.request_rate}")
        if self.warmup_requests < 0:
            problems.append(f"warmup_requests must not be negative, not {self.warmup_requests}")
        if not (self.request_timeout_s > 0 and self.connect_timeout_s > 0):
            problems.append("request_timeout_s and connect_timeout_s must be positive")
        if not 0 <= self.max_failure_share <= 1:
            problems.append(f"max_failure_share must lie in [0, 1], not {self.max_failure_share}")
        if self.enable_thinking is not None and self.api != "chat":
            problems.append("enable_thinking is a chat template setting; it needs api='chat'")
        if problems:
            raise ValueError(f"Invalid load settings for model {self.model!r}: " + "; ".join(problems))


@dataclass(frozen=True)
class RequestRecord:
    """One request as the client saw it. Latencies in seconds; token counts from the server."""

    index: int
    scheduled_s: float
    """Arrival time in the schedule, from the start of the load."""
    queued_s: float
    """Time the request waited for a free concurrency slot after its arrival."""
    sent_unix: float
    ttft_s: float | None
    inter_token_latencies_s: tuple[float, ...]
    """Gaps between successive stream chunks that carry generated text. A server streams one token
    per chunk while it keeps up and merges tokens into one chunk when it falls behind; tokens that
    decode to no text (special tokens) make no chunk. So there can be fewer gaps than tokens.
    A chunk's time is when its bytes were read: chunks that arrived in one read have a gap of 0."""
    e2e_latency_s: float
    """From sending to the end of the stream, or to the failure."""
    prompt_tokens: int | None
    output_tokens: int | None
    error_kind: ErrorKind | None = None
    error: str | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first: (e2e - ttft) / (output_tokens - 1)."""
        if not self.ok or self.ttft_s is None or not self.output_tokens or self.output_tokens < 2:
            return None
        return (self.e2e_latency_s - self.ttft_s) / (self.output_tokens - 1)

    def chunk_times_unix(self) -> np.ndarray:
        """Arrival times of the text-carrying chunks, for attributing tokens to a time window."""
        if self.ttft_s is None:
            return np.empty(0)
        gaps = np.concatenate(([self.ttft_s], self.inter_token_latencies_s))
        return self.sent_unix + np.cumsum(gaps)


@dataclass(frozen=True)
class Timeline:
    """Unix times of the measured load's phases (see the module docstring for the definitions)."""

    concurrency_limit: int
    """L = min(concurrency, number of measured requests): the in-flight count that saturates."""
    start_unix: float
    saturated_unix: float | None
    draining_unix: float | None
    end_unix: float

    @property
    def steady_state(self) -> tuple[float, float] | None:
        if self.saturated_unix is None or self.draining_unix is None:
            return None
        return self.saturated_unix, self.draining_unix


@dataclass(frozen=True)
class LoadResult:
    endpoint: str
    settings: LoadSettings
    records: tuple[RequestRecord, ...]
    timeline: Timeline
    duration_s: float
    """From the first measured request being sent to the last one finishing."""
    warmup_failures: int

    @property
    def failed_requests(self) -> int:
        return sum(not record.ok for record in self.records)

    @property
    def failure_share(self) -> float:
        return self.failed_requests / len(self.records)

    @property
    def failure_reason(self) -> str | None:
        """Why the run counts as failed, or None when it does not."""
        failed = self.failed_requests
        if failed == 0 or (
            failed < len(self.records) and self.failure_share <= self.settings.max_failure_share
        ):
            return None
        commonest = Counter(r.error for r in self.records if not r.ok).most_common(1)[0][0]
        return (
            f"{failed} of {len(self.records)} requests to model {self.settings.model!r} at {self.endpoint} "
            f"failed (allowed share: {self.settings.max_failure_share:g}); most common error: {commonest}"
        )

    @property
    def failed(self) -> bool:
        return self.failure_reason is not None

    def output_tokens_between(self, start_unix: float, end_unix: float) -> float:
        """Output tokens generated in [start, end]: each successful request's usage count is spread
        evenly over its text-carrying chunks (exact when the server streams one token per chunk)."""
        total = 0.0
        for record in self.records:
            times = record.chunk_times_unix()
            if record.ok and record.output_tokens and times.size:
                inside = np.count_nonzero((times >= start_unix) & (times <= end_unix))
                total += record.output_tokens * inside / times.size
        return total

    def summary(self) -> dict[str, Any]:
        """Counts, throughput and latency statistics over the successful requests."""
        ok = [r for r in self.records if r.ok]
        output_tokens = sum(r.output_tokens or 0 for r in ok)
        prompt_tokens = sum(r.prompt_tokens or 0 for r in ok)
        steady = self.timeline.steady_state
        return {
            "requests": len(self.records),
            "successful_requests": len(ok),
            "failed_requests": self.failed_requests,
            "failure_share": self.failure_share,
            "errors_by_kind": dict(Counter(r.error_kind.value for r in self.records if not r.ok)),
            "duration_s": self.duration_s,
            "prompt_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "request_throughput_per_s": len(ok) / self.duration_s,
            "output_throughput_tokens_per_s": output_tokens / self.duration_s,
            "ttft_s": summarize([r.ttft_s for r in ok if r.ttft_s is not None]),
            "itl_s": summarize([gap for r in ok for gap in r.inter_token_latencies_s]),
            "tpot_s": summarize([r.tpot_s for r in ok if r.tpot_s is not None]),
            "e2e_latency_s": summarize([r.e2e_latency_s for r in ok]),
            "steady_state": None
            if steady is None
            else {
                "start_unix": steady[0],
                "end_unix": steady[1],
                "duration_s": steady[1] - steady[0],
                "output_tokens": self.output_tokens_between(*steady),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "settings": asdict(self.settings) | {"extra_body": dict(self.settings.extra_body)},
            "timeline": asdict(self.timeline),
            "warmup_failures": self.warmup_failures,
            "failed": self.failed,
            "failure_reason": self.failure_reason,
            "summary": self.summary(),
            "requests": [asdict(r) | {"tpot_s": r.tpot_s} for r in self.records],
        }


def summarize(values: Sequence[float]) -> dict[str, float] | None:
    """Mean, median, p90 and p99 of `values`; None when there are none."""
    if not values:
        return None
    array = np.asarray(values, dtype=float)
    p50, p90, p99 = np.percentile(array, [50, 90, 99])
    return {
        "count": int(array.size),
        "mean": float(array.mean()),
        "median": float(p50),
        "p90": float(p90),
        "p99": float(p99),
    }


def arrival_offsets(count: int, request_rate: float, seed: int) -> np.ndarray:
    """Arrival times (s from the start) of `count` requests: Poisson at `request_rate`, first at 0."""
    if math.isinf(request_rate):
        return np.zeros(count)
    gaps = np.random.default_rng(seed).exponential(1.0 / request_rate, size=max(count - 1, 0))
    return np.concatenate(([0.0], np.cumsum(gaps)))[:count]


def build_request_body(settings: LoadSettings, prompt: str) -> dict[str, Any]:
    """The JSON body of one streaming request."""
    body: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if settings.api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if settings.fixed_output_length:
        body["min_tokens"] = settings.max_tokens
        body["ignore_eos"] = True
    if settings.reasoning_effort is not None:
        body["reasoning_effort"] = settings.reasoning_effort
    if settings.enable_thinking is not None:
        body["chat_template_kwargs"] = {"enable_thinking": settings.enable_thinking}
    body.update(settings.extra_body)
    return body


def run_load(
    endpoint: Endpoint,
    prompts: Sequence[str],
    settings: LoadSettings,
    on_phase: Callable[[Phase, float], None] | None = None,
) -> LoadResult:
    """Blocking wrapper of `run_load_async`."""
    return asyncio.run(run_load_async(endpoint, prompts, settings, on_phase))


async def run_load_async(
    endpoint: Endpoint,
    prompts: Sequence[str],
    settings: LoadSettings,
    on_phase: Callable[[Phase, float], None] | None = None,
) -> LoadResult:
    """Check that `endpoint` serves `settings.model`, run the warm-up, then send one measured
    request per prompt. `on_phase` is called inside the event loop; it must return quickly."""
    if not prompts:
        raise ValueError(f"No prompts to send to model {settings.model!r} at {endpoint}.")
    timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
    limits = httpx.Limits(
        max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
    )
    async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=_auth_headers(settings)) as client:
        await check_model_served(client, endpoint, settings.model, settings.api_key_env)
        await _open_connections(client, endpoint, settings.concurrency)
        url = endpoint.chat_completions_url if settings.api == "chat" else endpoint.completions_url
        sender = _RequestSender(client, url, settings)

        warmup_prompts = [prompts[i % len(prompts)] for i in range(settings.warmup_requests)]
        warmup = await _run_phase(
            sender, warmup_prompts, np.zeros(len(warmup_prompts)), settings.concurrency, None
        )

        tracker = _SaturationTracker(min(settings.concurrency, len(prompts)), on_phase)
        offsets = arrival_offsets(len(prompts), settings.request_rate, settings.seed)
        started = time.perf_counter()
        tracker.mark(Phase.START)
        records = await _run_phase(sender, prompts, offsets, settings.concurrency, tracker,
                                   Progress("load", len(prompts), log))
        duration_s = time.perf_counter() - started
        tracker.mark(Phase.END)

    return LoadResult(
        endpoint=endpoint.base_url,
        settings=settings,
        records=tuple(records),
        timeline=tracker.timeline(),
        duration_s=duration_s,
        warmup_failures=sum(not r.ok for r in warmup),
    )


async def check_model_served(
    client: httpx.AsyncClient, endpoint: Endpoint, model: str, api_key_env: str | None = None
) -> None:
    """Raise `LoadError` unless the endpoint answers `/v1/models` and lists `model`."""
    where = f"model {model!r} at endpoint {endpoint}"
    try:
        response = await client.get(endpoint.models_url)
    except httpx.ConnectError as error:
        raise LoadError(
            f"Cannot connect to the endpoint for {where}: {error}. "
            "Is the server running on that host and port?"
        ) from error
    except httpx.TimeoutException as error:
        raise LoadError(
            f"The endpoint for {where} did not answer {endpoint.models_url} in time ({type(error).__name__})."
        ) from error
    except httpx.HTTPError as error:
        raise LoadError(f"Request to {endpoint.models_url} for {where} failed: {error!r}") from error
    body = response.text[:_ERROR_BODY_CHARS]
    if response.status_code in (401, 403):
        advice = (
            f"it rejected the API key from the environment variable {api_key_env}"
            if api_key_env
            else "it needs an API key: name the environment variable that holds it in api_key_env"
        )
        raise LoadError(f"The endpoint for {where} answered HTTP {response.status_code}; {advice}.")
    if response.status_code >= 400:
        raise LoadError(
            f"The endpoint for {where} answered {endpoint.models_url} "
            f"with HTTP {response.status_code}: {body}"
        )
    try:
        served = [entry["id"] for entry in response.json()["data"]]
    except (ValueError, KeyError, TypeError) as error:
        raise LoadError(
            f"The endpoint for {where} answered {endpoint.models_url} with something other than "
            f"an OpenAI model list: {body!r}"
        ) from error
    if model not in served:
        raise LoadError(
            f"The endpoint {endpoint} does not serve model {model!r}; it serves {served}. Use the served "
            "name (vLLM's --served-model-name, by default the path or Hugging Face id it was started with)."
        )


async def _open_connections(client: httpx.AsyncClient, endpoint: Endpoint, count: int) -> None:
    """Open the `count` connections the load will use, before it starts, with as many requests
    for the model list at once. A connection opened during the load puts a TCP handshake and the
    server's accept, slow on a busy server, inside a request's time to first token. Failures are
    left to the load itself to record."""
    await asyncio.gather(*(client.get(endpoint.models_url) for _ in range(count)), return_exceptions=True)


def _auth_headers(settings: LoadSettings) -> dict[str, str]:
    if settings.api_key_env is None:
        return {}
    key = os.environ.get(settings.api_key_env)
    if not key:
        raise LoadError(
            f"The API key for model {settings.model!r} should be in the environment variable "
            f"{settings.api_key_env}, which is not set."
        )
    return {"Authorization": f"Bearer {key}"}


class _MalformedStream(Exception):
    pass


class _ServerStreamError(Exception):
    pass


class _RequestSender:
    """Sends one streaming request and turns what comes back into a `RequestRecord`."""

    def __init__(self, client: httpx.AsyncClient, url: str, settings: LoadSettings):
        self._client = client
        self._url = url
        self._settings = settings

    async def send(self, index: int, prompt: str, scheduled_s: float, queued_s: float) -> RequestRecord:
        body = build_request_body(self._settings, prompt)
        sent_unix = time.time()
        started = time.perf_counter()
        chunk_times: list[float] = []
        usage: dict[str, Any] | None = None
        failure: tuple[ErrorKind, str, int | None] | None = None
        try:
            async with asyncio.timeout(self._settings.request_timeout_s):
                async with self._client.stream("POST", self._url, json=body) as response:
                    if response.status_code >= 400:
                        detail = (await response.aread()).decode(errors="replace")[:_ERROR_BODY_CHARS]
                        failure = (
                            ErrorKind.HTTP_STATUS,
                            f"HTTP {response.status_code}: {detail}",
                            response.status_code,
                        )
                    else:
                        usage = await self._read_stream(response, chunk_times)
        except TimeoutError:
            failure = (
                ErrorKind.TIMEOUT,
                f"no complete answer within {self._settings.request_timeout_s:g} s",
                None,
            )
        except httpx.TimeoutException as error:
            failure = (
                ErrorKind.TIMEOUT,
                f"{type(error).__name__} after {self._settings.request_timeout_s:g} s",
                None,
            )
        except httpx.TransportError as error:
            failure = (ErrorKind.CONNECTION, f"{type(error).__name__}: {error}", None)
        except _MalformedStream as error:
            failure = (ErrorKind.MALFORMED_STREAM, f"malformed stream: {error}", None)
        except _ServerStreamError as error:
            failure = (ErrorKind.SERVER_ERROR, f"server error in stream: {error}", None)
        e2e = time.perf_counter() - started

        timing = dict(
            index=index,
            scheduled_s=scheduled_s,
            queued_s=queued_s,
            sent_unix=sent_unix,
            e2e_latency_s=e2e,
            ttft_s=chunk_times[0] - started if chunk_times else None,
            inter_token_latencies_s=tuple(np.diff(chunk_times).tolist()),
        )
        if failure is not None:
            kind, message, status = failure
            return RequestRecord(
                **timing,
                prompt_tokens=None,
                output_tokens=None,
                error_kind=kind,
                error=message,
                http_status=status,
            )
        return RequestRecord(
            **timing, prompt_tokens=usage["prompt_tokens"], output_tokens=usage["completion_tokens"]
        )

    async def _read_stream(self, response: httpx.Response, chunk_times: list[float]) -> dict[str, Any]:
        """Read server-sent events until `[DONE]`; note when text arrives; return the usage.

        Read to the end of the body, past `[DONE]`: a response closed before its last byte takes
        its connection with it, and every request would then open a new one (a TCP handshake and
        the server's accept inside its time to first token). Bytes are split into lines here
        rather than by httpx's text and line decoders, which cost several times the CPU per
        token; on a small machine the client shares its cores with the server it measures. A
        chunk's arrival is the moment its bytes were read, as in vLLM's own benchmark."""
        usage = None
        done = False
        pending = b""
        async for received in response.aiter_bytes():
            arrived = time.perf_counter()
            *lines, pending = (pending + received).split(b"\n")
            for line in lines:
                if done or not line.startswith(b"data:"):
                    continue  # blank separators, SSE comments and other fields carry no data
                data = line[len(b"data:") :].strip()
                if data == b"[DONE]":
                    done = True
                    continue
                chunk = _parse_chunk(data)
                if _generated_text(chunk):
                    chunk_times.append(arrived)
                if chunk.get("usage"):
                    usage = chunk["usage"]
        if not done:
            raise _MalformedStream("the stream ended without 'data: [DONE]'")
        if (
            not usage
            or not isinstance(usage.get("prompt_tokens"), int)
            or not isinstance(usage.get("completion_tokens"), int)
        ):
            raise _MalformedStream(
                f"no usage with prompt_tokens and completion_tokens in the stream (got {usage!r}); "
                "the server must honour stream_options.include_usage"
            )
        return usage


def _parse_chunk(data: bytes) -> dict[str, Any]:
    """The JSON object of one event's data; an error event or anything else raises."""
    try:
        chunk = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _MalformedStream(f"not JSON: {data[:200]!r}") from None
    if not isinstance(chunk, dict):
        raise _MalformedStream(f"not a JSON object: {data[:200]!r}")
    if "error" in chunk:
        raise _ServerStreamError(json.dumps(chunk["error"])[:_ERROR_BODY_CHARS])
    return chunk


def _generated_text(chunk: dict[str, Any]) -> str:
    """Text generated in a completions or chat chunk (answer or reasoning); '' for role-only,
    finish-only and usage-only chunks."""
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    if "text" in choice:
        return choice["text"] or ""
    delta = choice.get("delta") or {}
    return delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning") or ""


class _SaturationTracker:
    """Follows the in-flight count of the measured load and marks the phases."""

    def __init__(self, limit: int, on_phase: Callable[[Phase, float], None] | None):
        self.limit = limit
        self._on_phase = on_phase
        self._moments: dict[Phase, float] = {}
        self._all_sent = False

    def mark(self, phase: Phase) -> None:
        if phase in self._moments:
            return
        self._moments[phase] = time.time()
        if self._on_phase is not None:
            self._on_phase(phase, self._moments[phase])

    def request_sent(self, in_flight: int, last: bool) -> None:
        if in_flight >= self.limit:
            self.mark(Phase.SATURATED)
        if last:
            self._all_sent = True
            self.request_finished(in_flight)

    def request_finished(self, in_flight: int) -> None:
        if self._all_sent and in_flight < self.limit:
            self.mark(Phase.DRAINING)

    def timeline(self) -> Timeline:
        return Timeline(
            concurrency_limit=self.limit,
            start_unix=self._moments[Phase.START],
            saturated_unix=self._moments.get(Phase.SATURATED),
            draining_unix=self._moments.get(Phase.DRAINING),
            end_unix=self._moments[Phase.END],
        )


async def _run_phase(
    sender: _RequestSender,
    prompts: Sequence[str],
    offsets: np.ndarray,
    concurrency: int,
    tracker: _SaturationTracker | None,
    progress: Progress | None = None,
) -> list[RequestRecord]:
    """Send `prompts[i]` at `offsets[i]` seconds from now, at most `concurrency` at a time;
    `progress` logs the requests answered (at most every few seconds)."""
    slots = asyncio.Semaphore(concurrency)
    in_flight = 0
    start = time.perf_counter()

    async def tracked(index: int, prompt: str, scheduled_s: float, queued_s: float) -> RequestRecord:
        nonlocal in_flight
        try:
            return await sender.send(index, prompt, scheduled_s, queued_s)
        finally:
            in_flight -= 1
            slots.release()
            if tracker is not None:
                tracker.request_finished(in_flight)
            if progress is not None:
                progress.advance(1)

    tasks = []
    async with asyncio.TaskGroup() as group:
        for index, (prompt, scheduled_s) in enumerate(zip(prompts, offsets.tolist(), strict=True)):
            delay = start + scheduled_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            in_flight += 1
            queued_s = max(0.0, time.perf_counter() - start - scheduled_s)
            tasks.append(group.create_task(tracked(index, prompt, scheduled_s, queued_s)))
            if tracker is not None:
                tracker.request_sent(in_flight, last=index == len(prompts) - 1)
    return [task.result() for task in tasks]
