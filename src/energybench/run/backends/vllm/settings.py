"""The `vllm` block of a model's settings as the backend reads it: `VLLMSettings`, every field
filled.

The block's fields, their limits and their defaults are declared once, in
energybench.run.model_settings.VLLMBlock, which this type extends; the settings' schema,
generated from it, checks each field of the block, and which fields go with which mode, once,
when the workflow is parsed (or when a hand-written run config is read). The schema carries
no `default` keywords: a field left out takes its default when the block is parsed here. The
block in the run config stays as the user wrote it, so a default changes no run config (what
changing one reruns is the code's digest: docs/vllm.md).

The parts of the backend take this type, or narrow parameters of it: the load generator
(`loadgen.LoadSettings.serving`) and the managed server (`server.ManagedVLLMServer`). What a
schema cannot know is resolved here: the name the model is served under, which depends on the
mode and on the rest of the model's settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from energybench.run.model_settings import EXTERNAL, VLLMBlock

__all__ = ["EXTERNAL", "VLLMSettings"]


class VLLMSettings(VLLMBlock):
    """One model's `vllm` block, every field filled (docs/vllm.md explains each)."""

    @property
    def external(self) -> bool:
        return self.mode == EXTERNAL

    @property
    def local_gpus_to_meter(self) -> list[int | str] | None:
        """External endpoint on this machine: the GPUs named to meter; else ``None``."""
        return list(self.meter_devices) if self.external and self.meter_devices else None

    @classmethod
    def from_block(cls, block: Mapping | None) -> VLLMSettings:
        """A block as in a run config (lists, fields left out) as settings."""
        return cls.model_validate(block or {})

    @classmethod
    def from_run_config(cls, run_config: Mapping) -> VLLMSettings:
        """The block of a resolved run config (a dict), with the served name resolved.

        A managed server serves the model under the model's key (its id may be a long local
        path); an external one under the name it was started with, by default ``id``.
        """
        settings = cls.from_block(run_config.get("vllm"))
        if settings.served_model_name is None:
            name = run_config["id"] if settings.external else run_config["model"]
            settings = settings.model_copy(update={"served_model_name": name})
        return settings

    def environment(self) -> dict[str, str]:
        """Environment variables a managed server needs for these settings."""
        if self.cpu_kvcache_space_gib is None:
            return {}
        return {"VLLM_CPU_KVCACHE_SPACE": f"{self.cpu_kvcache_space_gib:g}"}
