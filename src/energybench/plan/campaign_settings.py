"""A model's settings under the settings its campaign gives once for every model: the preset
(energybench.aes.preset) and, as AI Energy Score's runner takes them as flags, ``endpoint``
(its ``--endpoint``), ``num_prompts`` (``-n``) and ``prompts_file`` (``--prompts-file``).
Each one given is set on every model, over its entry."""

from __future__ import annotations

from energybench.aes.preset import apply_preset
from energybench.run.backend_registry import sent_to_endpoint


def apply_campaign_settings(run_config: dict, campaign: dict, machine_gpus: int = 0) -> dict:
    """``run_config`` under the campaign's settings that are given (not None). The endpoint
    comes first: it decides the backend, which the preset's device layout goes by; then the
    preset; then the number of prompts and the prompt file, over the preset's.
    ``machine_gpus``: the GPUs of the machine that runs the jobs."""
    settings = dict(run_config)
    if campaign.get("endpoint") is not None:
        settings = sent_to_endpoint(settings, campaign["endpoint"])
    settings = apply_preset(campaign.get("preset"), settings, machine_gpus)
    if campaign.get("num_prompts") is not None:
        settings["num_prompts"] = campaign["num_prompts"]
    if campaign.get("prompts_file") is not None:
        settings["dataset"] = campaign["prompts_file"]
    return settings
