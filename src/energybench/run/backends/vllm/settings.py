"""The `vllm` block of a model's settings: one type, `VLLMSettings`, and the one home of its
defaults.

schemas/model_settings.schema.json checks each field of the block, and which fields go with
which mode, once, when the workflow is parsed (or when a hand-written run config is read);
its fields carry no `default` keywords: a field left out takes the default declared here, when
the block is parsed. The block in the run config stays as the user wrote it, so a default
changes no run config (what changing one reruns is the code's digest: docs/vllm.md).

The parts of the backend take this type, or narrow parameters of it: the load generator
(`loadgen.LoadSettings.serving`) and the managed server (`server.ManagedVLLMServer`). What a
schema cannot know is resolved here: the name the model is served under, which depends on the
mode and on the rest of the model's settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

MANAGED = "managed"
EXTERNAL = "external"


@dataclass(frozen=True)
class VLLMSettings:
    """One model's `vllm` block, every field filled (docs/vllm.md explains each)."""

    mode: Literal["managed", "external"] = MANAGED
    endpoint: str | None = None
    """external: the OpenAI-compatible API's base URL."""
    api: Literal["completions", "chat"] = "completions"
    concurrency: int = 8
    request_rate: float | None = None
    """Mean requests per second (Poisson arrivals); None sends every request at once."""
    max_failure_share: float = 0.0
    request_timeout_s: float = 300.0
    served_model_name: str | None = None
    """The name requests ask for; None where no model is known (`from_run_config` resolves it)."""
    api_key_env: str | None = None
    """external: NAME of the environment variable holding the API key (never the key)."""
    meter_devices: tuple[int | str, ...] | None = None
    """External endpoint on this machine: the local GPUs to meter (docs/aes.md)."""
    # A managed server's options; None leaves vLLM's default.
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    """How many sequences the server decodes at once: also caps the load's steady state."""
    tensor_parallel_size: int | None = None
    gpu_memory_utilization: float | None = None
    cpu_kvcache_space_gib: float | None = None
    """KV cache of vLLM's CPU backend (VLLM_CPU_KVCACHE_SPACE); without it the CPU backend
    reserves most of the RAM. GPU builds ignore it."""
    extra_args: tuple[str, ...] = ()
    startup_timeout_s: float = 600.0

    @property
    def external(self) -> bool:
        return self.mode == EXTERNAL

    @property
    def local_gpus_to_meter(self) -> list[int | str] | None:
        """External endpoint on this machine: the GPUs named to meter; else ``None``."""
        return list(self.meter_devices) if self.external and self.meter_devices else None

    @classmethod
    def from_block(cls, block: Mapping | None) -> VLLMSettings:
        """A schema-checked block (as in a run config: lists, fields left out) as settings."""
        settings = dict(block or {})
        if "extra_args" in settings:
            settings["extra_args"] = tuple(settings["extra_args"])
        if settings.get("meter_devices") is not None:
            settings["meter_devices"] = tuple(settings["meter_devices"])
        return cls(**settings)

    @classmethod
    def from_run_config(cls, run_config: Mapping) -> VLLMSettings:
        """The block of a resolved run config (a dict), with the served name resolved.

        A managed server serves the model under the model's key (its id may be a long local
        path); an external one under the name it was started with, by default ``id``.
        """
        settings = cls.from_block(run_config.get("vllm"))
        if settings.served_model_name is None:
            name = run_config["id"] if settings.external else run_config["model"]
            settings = dataclasses.replace(settings, served_model_name=name)
        return settings

    def environment(self) -> dict[str, str]:
        """Environment variables a managed server needs for these settings."""
        if self.cpu_kvcache_space_gib is None:
            return {}
        return {"VLLM_CPU_KVCACHE_SPACE": f"{self.cpu_kvcache_space_gib:g}"}
