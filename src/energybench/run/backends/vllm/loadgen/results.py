"""What a load gives: one `RequestRecord` per request, the `PhaseTimes` of its phases, and the
`LoadResult` with its statistics, token attribution and steady-state batch check."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from energybench.run.backends.vllm.loadgen.settings import LoadSettings
from energybench.run.distribution import distribution

BATCH_FULL_SHARE = 0.9
"""The steady state counts as a full batch when, on average over its window, at least this share
of the L requests were decoding (had their first token and were not finished). Between one
request's end and its successor's first token the batch is one short for about a TTFT, so a
saturated server stays a little under 1."""


MAX_CHUNKS_READ_TOGETHER = 0.5
"""The stream counts as read on time while at most this share of its chunks (after each request's
first) were read in one read with the chunk before. A client that keeps up reads most chunks
alone, with merged reads now and then; a client that falls behind the server reads whole
answers in one burst, its first tokens late (the shares measured each way: docs/vllm.md,
"Stream check"). A client on the engine's pinned core fell behind in some sessions and kept
up in others, so the check looks at the symptom, not the placement."""


class ErrorKind(StrEnum):
    HTTP_STATUS = "http_status"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    MALFORMED_STREAM = "malformed_stream"
    SERVER_ERROR = "server_error"


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

    def decoding_unix(self) -> tuple[float, float] | None:
        """From its first token to its end: while the server had it in its running batch."""
        if self.ttft_s is None:
            return None
        return self.sent_unix + self.ttft_s, self.sent_unix + self.e2e_latency_s


@dataclass(frozen=True)
class PhaseTimes:
    """Unix times of the measured load's phases (see `schedule` for the definitions)."""

    concurrency_limit: int
    """L: how many requests decode at once when the server is saturated by this load."""
    start_unix: float
    saturated_unix: float | None
    draining_unix: float | None
    end_unix: float

    @property
    def steady_state(self) -> tuple[float, float] | None:
        if self.saturated_unix is None or self.draining_unix is None:
            return None
        if not self.draining_unix > self.saturated_unix:
            return None
        return self.saturated_unix, self.draining_unix


@dataclass(frozen=True)
class LoadResult:
    endpoint: str
    settings: LoadSettings
    records: tuple[RequestRecord, ...]
    phase_times: PhaseTimes
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
            failed < len(self.records)
            and self.failure_share <= self.settings.serving.max_failure_share
        ):
            return None
        commonest = Counter(r.error for r in self.records if not r.ok).most_common(1)[0][0]
        return (
            f"{failed} of {len(self.records)} requests to model {self.settings.model!r} at {self.endpoint} "
            f"failed (allowed share: {self.settings.serving.max_failure_share:g}); most common error: {commonest}"
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
        return float(total)

    def mean_decoding_between(self, start_unix: float, end_unix: float) -> float:
        """Time-weighted mean number of requests decoding (first token returned, not finished)
        over [start, end]: the server's running batch as the client saw it."""
        overlap = 0.0
        for record in self.records:
            span = record.decoding_unix()
            if span is not None:
                overlap += max(0.0, min(span[1], end_unix) - max(span[0], start_unix))
        return overlap / (end_unix - start_unix)

    def chunks_read_together_share(self) -> float | None:
        """Share of the successful requests' chunks after their first that arrived in the same
        read as the chunk before (an inter-token gap of exactly 0); None without such chunks."""
        gaps = [gap for r in self.records if r.ok for gap in r.inter_token_latencies_s]
        return sum(gap == 0.0 for gap in gaps) / len(gaps) if gaps else None

    def steady_state_figures(self) -> dict[str, Any] | None:
        """The steady-state window, its tokens, and whether the server's batch was full in it."""
        steady = self.phase_times.steady_state
        if steady is None:
            return None
        limit = self.phase_times.concurrency_limit
        mean_decoding = self.mean_decoding_between(*steady)
        full = mean_decoding >= BATCH_FULL_SHARE * limit
        return {
            "start_unix": steady[0],
            "end_unix": steady[1],
            "duration_s": steady[1] - steady[0],
            "output_tokens": self.output_tokens_between(*steady),
            "mean_decoding_requests": mean_decoding,
            "batch_full": full,
            "batch_reason": None
            if full
            else (
                f"on average {mean_decoding:.2f} of {limit} requests were decoding in the steady "
                f"state (under {BATCH_FULL_SHARE:g} of a full batch): the server was not saturated"
            ),
        }

    def statistics(self) -> dict[str, Any]:
        """Counts, throughput and latency statistics over the successful requests."""
        ok = [r for r in self.records if r.ok]
        output_tokens = sum(r.output_tokens or 0 for r in ok)
        prompt_tokens = sum(r.prompt_tokens or 0 for r in ok)
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
            "ttft_s": distribution([r.ttft_s for r in ok if r.ttft_s is not None]),
            "itl_s": distribution([gap for r in ok for gap in r.inter_token_latencies_s]),
            "tpot_s": distribution([r.tpot_s for r in ok if r.tpot_s is not None]),
            "e2e_latency_s": distribution([r.e2e_latency_s for r in ok]),
            "chunks_read_together_share": self.chunks_read_together_share(),
            "steady_state": self.steady_state_figures(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "settings": self.settings.to_dict(),
            "phase_times": asdict(self.phase_times),
            "warmup_failures": self.warmup_failures,
            "failed": self.failed,
            "failure_reason": self.failure_reason,
            "statistics": self.statistics(),
            "requests": [asdict(r) | {"tpot_s": r.tpot_s} for r in self.records],
        }
