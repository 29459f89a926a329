"""What the load generator sends and how fast: `LoadSettings`.

How fast, and how the server is asked, is the model's `vllm` block (`serving`, a
`VLLMSettings`: the API, concurrency, request rate, request timeout, failure share, API key
variable and the server's batch limit), checked with the model's settings; the rest is what
each request asks for, from the model's other settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from energybench.run.backends.vllm.settings import VLLMSettings


@dataclass(frozen=True)
class LoadSettings:
    """What to send and how fast. `model` is the name the server serves the model under."""

    model: str
    serving: VLLMSettings = VLLMSettings()
    max_tokens: int = 128
    fixed_output_length: bool = True
    """Ask for exactly `max_tokens` (vLLM's `min_tokens` and `ignore_eos`; not OpenAI's own API)."""
    warmup_requests: int = 0
    seed: int = 0
    """Seeds the Poisson arrivals (`serving.request_rate`)."""
    connect_timeout_s: float = 10.0
    reasoning_effort: str | None = None
    enable_thinking: bool | None = None
    """Sent as `chat_template_kwargs.enable_thinking` (the chat API only: the model's
    settings refuse it with `api: completions`)."""
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    """Further request fields (e.g. `temperature`), sent as given; they override the fields above."""

    def saturation_limit(self, requests: int) -> int:
        """L: how many requests decode at once when the server is saturated by this load:
        the concurrency, capped by the server's batch (`max_num_seqs`, where known) and by
        the number of requests."""
        concurrency = self.serving.concurrency
        return min(concurrency, requests, self.serving.max_num_seqs or concurrency)

    def to_dict(self) -> dict[str, Any]:
        """What the load asked for: the request fields and the serving block's load fields."""
        serving = self.serving
        return {
            "model": self.model,
            "api": serving.api,
            "max_tokens": self.max_tokens,
            "fixed_output_length": self.fixed_output_length,
            "concurrency": serving.concurrency,
            "request_rate": serving.request_rate,
            "server_batch_limit": serving.max_num_seqs,
            "warmup_requests": self.warmup_requests,
            "seed": self.seed,
            "request_timeout_s": serving.request_timeout_s,
            "connect_timeout_s": self.connect_timeout_s,
            "max_failure_share": serving.max_failure_share,
            "reasoning_effort": self.reasoning_effort,
            "enable_thinking": self.enable_thinking,
            "api_key_env": serving.api_key_env,
            "extra_body": dict(self.extra_body),
        }
