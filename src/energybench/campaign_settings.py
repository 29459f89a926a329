"""Settings a campaign gives once for every model, as AI Energy Score's runner takes them as
flags: ``num_prompts`` (its ``-n``), ``prompts_file`` (``--prompts-file``) and ``endpoint``
(``--endpoint``). Each one given is set on every model, over its entry and over a preset."""

from __future__ import annotations

from energybench.backends import sent_to_endpoint


def apply_campaign_settings(run_config: dict, campaign: dict) -> dict:
    """``run_config`` with the campaign's settings that are given (not None) set on it: an
    endpoint makes the model one of that server (energybench.backends.sent_to_endpoint)."""
    settings = dict(run_config)
    if campaign.get("num_prompts") is not None:
        settings["num_prompts"] = campaign["num_prompts"]
    if campaign.get("prompts_file") is not None:
        settings["dataset"] = campaign["prompts_file"]
    if campaign.get("endpoint") is not None:
        settings = sent_to_endpoint(settings, campaign["endpoint"])
    return settings
