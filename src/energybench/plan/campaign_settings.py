"""A model's settings under the settings its campaign gives once for every model: the preset
(energybench.aes.preset) and, as AI Energy Score's runner takes them as flags, ``endpoint``
(its ``--endpoint``), ``num_prompts`` (``-n``) and ``prompts_file`` (``--prompts-file``).
Each one given is set on every model, over its entry."""

from __future__ import annotations

from energybench.aes.preset import apply_preset
from energybench.run.backend_registry import sent_to_endpoint


def apply_campaign_settings(run_config: dict, campaign: dict) -> dict:
    """``run_config`` under the campaign's settings that are given (not None). The endpoint
    comes first: it decides the backend, which the preset's device layout goes by; then the
    preset, with the campaign's ``node_gpus`` where it states a count (never the GPUs of the
    host that plans: energybench.aes.preset.aes_gpus); then the number of prompts and the
    prompt file, over the preset's."""
    settings = dict(run_config)
    if campaign.get("endpoint") is not None:
        settings = sent_to_endpoint(settings, campaign["endpoint"])
    node_gpus = campaign.get("node_gpus")
    settings = apply_preset(
        campaign.get("preset"), settings, node_gpus if isinstance(node_gpus, int) else None
    )
    if campaign.get("num_prompts") is not None:
        settings["num_prompts"] = campaign["num_prompts"]
    if campaign.get("prompts_file") is not None:
        settings["dataset"] = campaign["prompts_file"]
    return settings
