"""Background thread that samples every meter at a fixed rate into the timeline."""

from __future__ import annotations

import threading
from collections.abc import Callable

from energybench.run.meters.base import Meter
from energybench.run.meters.timeline import Timeline


class Sampler:
    """Calls ``meter.sample(t)`` for every meter ``hz`` times a second.

    ``sample_now`` takes the same lock, so window edges and the thread never interleave
    inside a meter. A meter that raises keeps being sampled; its first error is kept for
    ``describe`` rather than repeated ten times a second.
    """

    def __init__(
        self, meters: list[Meter], timeline: Timeline, clock: Callable[[], float], hz: float
    ) -> None:
        if hz <= 0:
            raise ValueError(f"sample rate must be positive, got {hz} Hz")
        self._meters = meters
        self._timeline = timeline
        self._clock = clock
        self.interval_s = 1.0 / hz
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="energybench-sampler", daemon=True)
        self.ticks = 0
        self.late_ticks = 0
        self.errors: dict[str, str] = {}

    def start(self) -> None:
        self._started_at = self._clock()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def sample_now(self) -> float:
        with self._lock:
            t = self._clock()
            for meter in self._meters:
                try:
                    self._timeline.extend(meter.sample(t))
                except Exception as error:  # a failing device must not stop the others
                    self.errors.setdefault(meter.component, f"{type(error).__name__}: {error}")
            return t

    def _run(self) -> None:
        next_tick = self._clock()
        while not self._stop.is_set():
            self.sample_now()
            self.ticks += 1
            next_tick += self.interval_s
            delay = next_tick - self._clock()
            if delay < 0:
                self.late_ticks += 1
                next_tick = self._clock()
                delay = 0
            self._stop.wait(delay)

    def describe(self) -> dict:
        elapsed = self._clock() - getattr(self, "_started_at", self._clock())
        return {
            "target_hz": 1.0 / self.interval_s,
            "achieved_hz": self.ticks / elapsed if elapsed > 0 else None,
            "ticks": self.ticks,
            "late_ticks": self.late_ticks,
            "errors": dict(self.errors),
        }
