"""Progress of a long window in the run's log: prompts done, time spent and left, at most one
line every few seconds (a line per prompt would drown a 1,000-prompt log)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

LOG_EVERY_S = 5.0


class Progress:
    def __init__(
        self,
        name: str,
        total: int,
        log: logging.Logger,
        *,
        every_s: float = LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name, self.total, self.log, self.every_s, self.clock = name, total, log, every_s, clock
        self.done = 0
        self.started = self.last_line = clock()

    def advance(self, prompts: int) -> None:
        """Count ``prompts`` more as done; log when the last line is old enough, or at the end."""
        self.done += prompts
        now = self.clock()
        if now - self.last_line < self.every_s and self.done < self.total:
            return
        self.last_line = now
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        self.log.info(
            "%s: %d/%d prompts, %.1f s, about %.0f s left",
            self.name,
            self.done,
            self.total,
            elapsed,
            left,
        )
