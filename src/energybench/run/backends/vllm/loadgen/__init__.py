"""Streaming load generator for OpenAI-compatible inference servers (vLLM and others).

`run_load` sends one streaming request per prompt to `/v1/completions` or `/v1/chat/completions`
and records, per request, the time to first token, the inter-token latencies, the end-to-end
latency and the prompt and output token counts that the *server* reports in its usage chunk
(`stream_options.include_usage`), or the error that ended the request.

- `settings`: what to send and how fast (`LoadSettings`);
- `client`: the HTTP side: the session, the endpoint check, one streaming request;
- `schedule`: when requests go out, and the phases of the load (steady state);
- `results`: the per-request records, the phase times and the statistics.

Every request is bounded by `request_timeout_s` (connect, each read, and the whole request), so a
run cannot hang. Errors of single requests are recorded and counted; a run whose failure share
exceeds `max_failure_share` is marked failed. Problems that would fail every request (the endpoint
refuses connections, does not serve the model, wants an API key) raise `LoadError` before the load.
"""

from energybench.run.backends.vllm.loadgen.client import LoadError, auth_headers, build_request_body
from energybench.run.backends.vllm.loadgen.results import (
    BATCH_FULL_SHARE,
    MAX_CHUNKS_READ_TOGETHER,
    ErrorKind,
    LoadResult,
    RequestRecord,
    PhaseTimes,
)
from energybench.run.backends.vllm.loadgen.schedule import (
    Phase,
    arrival_offsets,
    run_load,
    run_load_async,
)
from energybench.run.backends.vllm.loadgen.settings import LoadSettings

__all__ = [
    "BATCH_FULL_SHARE",
    "ErrorKind",
    "MAX_CHUNKS_READ_TOGETHER",
    "LoadError",
    "LoadResult",
    "LoadSettings",
    "Phase",
    "RequestRecord",
    "PhaseTimes",
    "arrival_offsets",
    "auth_headers",
    "build_request_body",
    "run_load",
    "run_load_async",
]
