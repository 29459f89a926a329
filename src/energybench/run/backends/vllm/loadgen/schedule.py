"""When requests go out, and the phases of the measured load.

Requests arrive at Poisson times (exponential gaps from a seeded RNG, so a schedule is
reproducible) or all at once (`request_rate` None); at most `concurrency` are in flight, later
arrivals wait for a free slot in arrival order. Warm-up requests run first, on the same
connections, to completion, and are not counted.

Steady state (for energy), with L = `LoadSettings.saturation_limit` (concurrency, capped by the
server's batch size where known and by the number of requests):
- *saturated* is the first moment at which L measured requests are decoding at once, i.e. have
  returned their first token and not finished: the server's batch is full and the initial prefill
  burst is over (the moment the L-th request is merely sent is still inside that burst);
- *draining* is the first moment, at or after the last measured request was sent, at which fewer
  than L requests are in flight (the queue is empty and the server's batch starts to shrink).
If the load never saturates (a request rate too low for the concurrency), there is no steady state.
`LoadResult.steady_state_figures` then checks, from the records, that the batch stayed full.

The moments are marked live, as they happen, and reported to `on_phase(phase, unix_time)`, rather
than computed from the request records after the load: a window opened and closed live reads the
energy counters (NVML's total-energy counter, RAPL) at its exact edges, while after the load the
counters' running totals are known only at the sampler's ticks (10 Hz), between which the edges
would have to be interpolated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

import numpy as np

from energybench.run.backends.vllm.endpoint import Endpoint
from energybench.run.backends.vllm.loadgen.client import (
    RequestSender,
    check_model_served,
    open_connections,
    open_session,
)
from energybench.run.backends.vllm.loadgen.results import LoadResult, PhaseTimes, RequestRecord
from energybench.run.backends.vllm.loadgen.settings import LoadSettings
from energybench.run.progress import Progress

log = logging.getLogger(__name__)


class Phase(StrEnum):
    """Moments of the measured load, reported to `on_phase` callbacks (see the module docstring)."""

    START = "start"
    SATURATED = "saturated"
    DRAINING = "draining"
    END = "end"


def arrival_offsets(count: int, request_rate: float | None, seed: int) -> np.ndarray:
    """Arrival times (s from the start) of `count` requests: Poisson at `request_rate`, first
    at 0; all at 0 when `request_rate` is None."""
    if request_rate is None:
        return np.zeros(count)
    gaps = np.random.default_rng(seed).exponential(1.0 / request_rate, size=max(count - 1, 0))
    return np.concatenate(([0.0], np.cumsum(gaps)))[:count]


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
    """Check that `endpoint` serves `settings.model`, open the connections, run the warm-up, then
    send one measured request per prompt. `on_phase` is called inside the event loop; it must
    return quickly."""
    if not prompts:
        raise ValueError(f"No prompts to send to model {settings.model!r} at {endpoint}.")
    async with open_session(settings) as session:
        await check_model_served(session, endpoint, settings.model, settings.serving.api_key_env)
        await open_connections(session, endpoint, settings.serving.concurrency)
        url = (
            endpoint.chat_completions_url
            if settings.serving.api == "chat"
            else endpoint.completions_url
        )
        sender = RequestSender(session, url, settings)

        warmup_prompts = [prompts[i % len(prompts)] for i in range(settings.warmup_requests)]
        warmup = await _dispatch(
            sender,
            warmup_prompts,
            np.zeros(len(warmup_prompts)),
            settings.serving.concurrency,
            None,
        )

        tracker = _SaturationTracker(settings.saturation_limit(len(prompts)), on_phase)
        offsets = arrival_offsets(len(prompts), settings.serving.request_rate, settings.seed)
        started = time.perf_counter()
        tracker.mark(Phase.START)
        records = await _dispatch(
            sender,
            prompts,
            offsets,
            settings.serving.concurrency,
            tracker,
            Progress("load", len(prompts), log),
        )
        duration_s = time.perf_counter() - started
        tracker.mark(Phase.END)

    return LoadResult(
        endpoint=endpoint.base_url,
        settings=settings,
        records=tuple(records),
        phase_times=tracker.phase_times(),
        duration_s=duration_s,
        warmup_failures=sum(not r.ok for r in warmup),
    )


class _SaturationTracker:
    """Follows the measured load's requests in flight and decoding, and marks the phases."""

    def __init__(self, limit: int, on_phase: Callable[[Phase, float], None] | None):
        self.limit = limit
        self._on_phase = on_phase
        self._moments: dict[Phase, float] = {}
        self._in_flight = 0
        self._decoding = 0
        self._all_sent = False

    def mark(self, phase: Phase) -> None:
        if phase in self._moments:
            return
        self._moments[phase] = time.time()
        if self._on_phase is not None:
            self._on_phase(phase, self._moments[phase])

    def request_sent(self, last: bool) -> None:
        self._in_flight += 1
        self._all_sent = self._all_sent or last

    def first_token(self) -> None:
        self._decoding += 1
        if self._decoding >= self.limit:
            self.mark(Phase.SATURATED)

    def request_finished(self, decoded: bool) -> None:
        self._in_flight -= 1
        self._decoding -= decoded
        if self._all_sent and self._in_flight < self.limit and Phase.SATURATED in self._moments:
            self.mark(Phase.DRAINING)

    def phase_times(self) -> PhaseTimes:
        return PhaseTimes(
            concurrency_limit=self.limit,
            start_unix=self._moments[Phase.START],
            saturated_unix=self._moments.get(Phase.SATURATED),
            draining_unix=self._moments.get(Phase.DRAINING),
            end_unix=self._moments[Phase.END],
        )


async def _dispatch(
    sender: RequestSender,
    prompts: Sequence[str],
    offsets: np.ndarray,
    concurrency: int,
    tracker: _SaturationTracker | None,
    progress: Progress | None = None,
) -> list[RequestRecord]:
    """Send `prompts[i]` at `offsets[i]` seconds from now, at most `concurrency` at a time;
    `progress` logs the requests answered (at most every few seconds)."""
    slots = asyncio.Semaphore(concurrency)
    start = time.perf_counter()
    on_first_token = tracker.first_token if tracker is not None else None

    async def tracked(
        index: int, prompt: str, scheduled_s: float, queued_s: float
    ) -> RequestRecord:
        record = None
        try:
            record = await sender.send(index, prompt, scheduled_s, queued_s, on_first_token)
            return record
        finally:
            slots.release()
            if tracker is not None:
                tracker.request_finished(decoded=record is not None and record.ttft_s is not None)
            if progress is not None:
                progress.advance(1)

    tasks = []
    async with asyncio.TaskGroup() as group:
        for index, (prompt, scheduled_s) in enumerate(zip(prompts, offsets.tolist(), strict=True)):
            delay = start + scheduled_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            queued_s = max(0.0, time.perf_counter() - start - scheduled_s)
            if tracker is not None:
                tracker.request_sent(last=index == len(prompts) - 1)
            tasks.append(group.create_task(tracked(index, prompt, scheduled_s, queued_s)))
    return [task.result() for task in tasks]
