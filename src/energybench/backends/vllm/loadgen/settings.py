"""What the load generator sends and how fast: `LoadSettings`, checked once when made."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


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
    server_batch_limit: int | None = None
    """How many sequences the server decodes at once (vLLM's `max_num_seqs`), where known: the
    steady state needs min(concurrency, this, number of requests) requests decoding at once."""
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
        if self.server_batch_limit is not None and self.server_batch_limit < 1:
            problems.append(f"server_batch_limit must be at least 1, not {self.server_batch_limit}")
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

    def saturation_limit(self, requests: int) -> int:
        """L: how many requests decode at once when the server is saturated by this load."""
        return min(self.concurrency, requests, self.server_batch_limit or self.concurrency)
