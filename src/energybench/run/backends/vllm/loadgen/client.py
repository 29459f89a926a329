"""The HTTP side of the load: one aiohttp session per load, the endpoint check, and one
streaming request turned into a `RequestRecord`.

aiohttp, as vLLM's own serving benchmark uses: against vLLM on a 2-core machine, where the
client shares its cores with the server it measures, httpx's stack (httpcore, h11, anyio) took
more CPU per streamed token, and the client saw first tokens later than vLLM's client did on
the same server (docs/PERFORMANCE.md, section 1).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from energybench.run.backends.vllm.endpoint import Endpoint
from energybench.run.backends.vllm.loadgen.results import ErrorKind, RequestRecord
from energybench.run.backends.vllm.loadgen.settings import LoadSettings

_ERROR_BODY_CHARS = 500
_KEEPALIVE_S = 60.0


class LoadError(RuntimeError):
    """The load cannot run at all against this endpoint and model."""


def auth_headers(api_key_env: str | None, model: str) -> dict[str, str]:
    """The bearer token from the environment variable named `api_key_env`, if one is named."""
    if api_key_env is None:
        return {}
    key = os.environ.get(api_key_env)
    if not key:
        raise LoadError(
            f"The API key for model {model!r} should be in the environment variable "
            f"{api_key_env}, which is not set."
        )
    return {"Authorization": f"Bearer {key}"}


def open_session(settings: LoadSettings) -> aiohttp.ClientSession:
    """A session whose pool holds `concurrency` kept-alive connections to the endpoint."""
    connector = aiohttp.TCPConnector(
        limit=settings.serving.concurrency,
        limit_per_host=settings.serving.concurrency,
        keepalive_timeout=_KEEPALIVE_S,
    )
    timeout = aiohttp.ClientTimeout(
        total=None,
        sock_connect=settings.connect_timeout_s,
        sock_read=settings.serving.request_timeout_s,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers=auth_headers(settings.serving.api_key_env, settings.model),
    )


def build_request_body(settings: LoadSettings, prompt: str) -> dict[str, Any]:
    """The JSON body of one streaming request."""
    body: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if settings.serving.api == "chat":
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


async def check_model_served(
    session: aiohttp.ClientSession, endpoint: Endpoint, model: str, api_key_env: str | None = None
) -> None:
    """Raise `LoadError` unless the endpoint answers `/v1/models` and lists `model`."""
    where = f"model {model!r} at endpoint {endpoint}"
    try:
        async with session.get(endpoint.models_url) as response:
            status, body = response.status, await response.text(errors="replace")
    except aiohttp.ClientConnectorError as error:
        raise LoadError(
            f"Cannot connect to the endpoint for {where}: {error}. "
            "Is the server running on that host and port?"
        ) from error
    except TimeoutError as error:
        raise LoadError(
            f"The endpoint for {where} did not answer {endpoint.models_url} in time ({type(error).__name__})."
        ) from error
    except aiohttp.ClientError as error:
        raise LoadError(
            f"Request to {endpoint.models_url} for {where} failed: {error!r}"
        ) from error
    if status in (401, 403):
        advice = (
            f"it rejected the API key from the environment variable {api_key_env}"
            if api_key_env
            else "it needs an API key: name the environment variable that holds it in api_key_env"
        )
        raise LoadError(f"The endpoint for {where} answered HTTP {status}; {advice}.")
    if status >= 400:
        raise LoadError(
            f"The endpoint for {where} answered {endpoint.models_url} "
            f"with HTTP {status}: {body[:_ERROR_BODY_CHARS]}"
        )
    try:
        served = [entry["id"] for entry in json.loads(body)["data"]]
    except (ValueError, KeyError, TypeError) as error:
        raise LoadError(
            f"The endpoint for {where} answered {endpoint.models_url} with something other than "
            f"an OpenAI model list: {body[:_ERROR_BODY_CHARS]!r}"
        ) from error
    if model not in served:
        raise LoadError(
            f"The endpoint {endpoint} does not serve model {model!r}; it serves {served}. Use the served "
            "name (vLLM's --served-model-name, by default the path or Hugging Face id it was started with)."
        )


async def open_connections(session: aiohttp.ClientSession, endpoint: Endpoint, count: int) -> None:
    """Open the `count` connections the load will use, before it starts, with as many requests
    for the model list at once. A connection opened during the load puts a TCP handshake and the
    server's accept, slow on a busy server, inside a request's time to first token. Failures are
    left to the load itself to record."""

    async def models() -> None:
        async with session.get(endpoint.models_url) as response:
            await response.read()

    await asyncio.gather(*(models() for _ in range(count)), return_exceptions=True)


class _MalformedStream(Exception):
    pass


class _ServerStreamError(Exception):
    pass


class RequestSender:
    """Sends one streaming request and turns what comes back into a `RequestRecord`."""

    def __init__(self, session: aiohttp.ClientSession, url: str, settings: LoadSettings):
        self._session = session
        self._url = url
        self._settings = settings

    async def send(
        self,
        index: int,
        prompt: str,
        scheduled_s: float,
        queued_s: float,
        on_first_token: Callable[[], None] | None = None,
    ) -> RequestRecord:
        """Send `prompt`; `on_first_token` is called, in the event loop, when its first text arrives."""
        body = build_request_body(self._settings, prompt)
        sent_unix = time.time()
        started = time.perf_counter()
        chunk_times: list[float] = []
        usage: dict[str, Any] | None = None
        failure: tuple[ErrorKind, str, int | None] | None = None
        try:
            async with asyncio.timeout(self._settings.serving.request_timeout_s):
                async with self._session.post(self._url, json=body) as response:
                    if response.status >= 400:
                        detail = (await response.text(errors="replace"))[:_ERROR_BODY_CHARS]
                        failure = (
                            ErrorKind.HTTP_STATUS,
                            f"HTTP {response.status}: {detail}",
                            response.status,
                        )
                    else:
                        usage = await _read_stream(response, chunk_times, on_first_token)
        except TimeoutError:
            failure = (
                ErrorKind.TIMEOUT,
                f"no complete answer within {self._settings.serving.request_timeout_s:g} s",
                None,
            )
        except aiohttp.ClientError as error:
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
            inter_token_latencies_s=tuple(b - a for a, b in zip(chunk_times, chunk_times[1:])),
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


async def _read_stream(
    response: aiohttp.ClientResponse,
    chunk_times: list[float],
    on_first_token: Callable[[], None] | None,
) -> dict[str, Any]:
    """Read server-sent events until `[DONE]`; note when text arrives; return the usage.

    Read to the end of the body, past `[DONE]`: a response released before its last byte takes
    its connection with it, and every request would then open a new one (a TCP handshake and the
    server's accept inside its time to first token). Lines are split at b"\\n" only: U+2028, U+0085
    and the like, which vLLM writes unescaped inside its JSON, end a line for str.splitlines but
    not for server-sent events. A chunk's arrival is the moment its bytes were read, as in vLLM's
    own benchmark."""
    usage = None
    done = False
    pending = b""
    async for received in response.content.iter_any():
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
                if not chunk_times and on_first_token is not None:
                    on_first_token()
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
