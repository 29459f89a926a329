"""Settings a campaign gives once for every model, as AI Energy Score's runner takes them as
flags: ``num_prompts`` (its ``-n``), ``prompts_file`` (``--prompts-file``) and ``endpoint``
(``--endpoint``). Each one given is set on every model, over its entry and over a preset."""

from __future__ import annotations

import json
from importlib import resources

CAMPAIGN_SETTINGS = ("num_prompts", "prompts_file", "endpoint")


def _managed_only_vllm_fields() -> set[str]:
    """The vLLM fields a managed server's model may have and an external one may not, as the
    model settings' schema declares them."""
    schema = json.loads(resources.files("energybench.schemas")
                        .joinpath("model_settings.schema.json").read_text())
    return set(schema["properties"]["vllm"]["then"]["properties"])


def apply_campaign_settings(run_config: dict, campaign: dict) -> dict:
    """``run_config`` with the campaign's settings that are given (not None) set on it: an
    endpoint makes the model a ``vllm`` model of that external server, keeping the entry's
    other serving settings (load, metering) that apply to one."""
    settings = dict(run_config)
    if campaign.get("num_prompts") is not None:
        settings["num_prompts"] = campaign["num_prompts"]
    if campaign.get("prompts_file") is not None:
        settings["dataset"] = campaign["prompts_file"]
    if campaign.get("endpoint") is not None:
        managed_only = _managed_only_vllm_fields()
        kept = {k: v for k, v in (settings.get("vllm") or {}).items() if k not in managed_only}
        settings.update(backend="vllm",
                        vllm={**kept, "mode": "external", "endpoint": campaign["endpoint"]})
    return settings
