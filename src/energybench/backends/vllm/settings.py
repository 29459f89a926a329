"""The `vllm` block of a model's settings, resolved against its defaults.

The defaults live in one place, the `default` keywords of the block in
schemas/model_settings.schema.json (which also documents every field); the schema checks each
field and which fields go with which mode. What a schema cannot know is resolved here: the
name the model is served under, which depends on the mode and the rest of the model's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from energybench.config import RunConfig, _package_schema

MANAGED = "managed"
EXTERNAL = "external"


def _block_defaults() -> dict:
    block = _package_schema("model_settings.schema.json")["properties"]["vllm"]["properties"]
    return {name: spec.get("default") for name, spec in block.items()}


@dataclass(frozen=True)
class VLLMSettings:
    mode: str
    endpoint: str | None
    api: str
    concurrency: int
    request_rate: float | None
    """Mean requests per second; None sends every request at once."""
    max_failure_share: float
    request_timeout_s: float
    served_model_name: str
    api_key_env: str | None
    meter_devices: tuple[int | str, ...] | None
    """External endpoint on this machine: the local GPUs to meter (docs/aes.md)."""
    max_model_len: int | None
    max_num_seqs: int | None
    tensor_parallel_size: int | None
    gpu_memory_utilization: float | None
    cpu_kvcache_space_gib: float | None
    extra_args: tuple[str, ...]
    startup_timeout_s: float

    @property
    def external(self) -> bool:
        return self.mode == EXTERNAL

    @property
    def local_gpus_to_meter(self) -> list[int | str] | None:
        """External endpoint on this machine: the GPUs named to meter; else ``None``."""
        return list(self.meter_devices) if self.external and self.meter_devices else None

    @classmethod
    def from_run_config(cls, cfg: RunConfig) -> VLLMSettings:
        """The block of ``cfg`` (already schema-checked) with every default filled in.

        A managed server serves the model under the model's key (its id may be a long local
        path); an external one under the name it was started with, by default ``id``.
        """
        settings = _block_defaults() | (cfg.vllm or {})
        if settings["served_model_name"] is None:
            settings["served_model_name"] = cfg.id if settings["mode"] == EXTERNAL else cfg.model
        settings["extra_args"] = tuple(settings["extra_args"])
        if settings["meter_devices"] is not None:
            settings["meter_devices"] = tuple(settings["meter_devices"])
        return cls(**settings)


def uses_external_endpoint(run_config: dict) -> bool:
    """Whether a resolved run config sends its load to an external endpoint (for the
    Snakemake resource that limits how many runs load endpoints at once)."""
    return run_config.get("backend") == "vllm" and (run_config.get("vllm") or {}).get("mode") == EXTERNAL
