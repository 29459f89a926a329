"""The AI Energy Score generation protocol as one switch (``--config preset=aes``).

AES's batch runner sends one prompt at a time from its text-generation dataset's ``text``
column, samples at temperature 0.7, generates exactly 10 new tokens with reasoning off and
lets the model stop on its own up to 8,192 with reasoning on (at least 1), over 10 prompts
unless told otherwise (its ``-n``: the campaign's ``num_prompts``), each model spread over
every GPU of the node (``device_map: auto``); an image-generation model makes one image per
prompt, one prompt at a time, from the image prompt set of AES's earlier leaderboard. The preset sets exactly
these settings on every model, over what models.yaml says, so a figure compares with AES's.
Whether a row of an AES list counts as reasoning is decided when the list is read
(energybench.aes.runner_protocol).
"""

from __future__ import annotations

from energybench.run.backend_registry import AUTO_GPUS
from energybench.run.errors import ConfigError
from energybench.run.tasks import task_named

AES = "aes"
# Every task's: one prompt at a time, 10 prompts, from the task's AES prompt set and column
# (energybench.run.tasks).
AES_COMMON = {"batch_size": 1, "num_prompts": 10, "dataset_split": "train"}
AES_TEXT = {"temperature": 0.7}
AES_TOKENS = {  # by reasoning on/off
    False: {"max_new_tokens": 10, "min_new_tokens": 10},
    True: {"max_new_tokens": 8192, "min_new_tokens": 1},
}
PRESETS = (AES,)


def aes_protocol(run_config: dict) -> dict:
    """The settings AES's protocol sets on a model of ``run_config``'s task. Image
    generation: one image per prompt; AES states no steps, resolution or guidance, so the
    model's own settings (or its pipeline's defaults) stay."""
    task = task_named(run_config.get("task"))
    protocol = {**AES_COMMON, "dataset": task.aes_dataset, "dataset_column": task.dataset_column}
    if task.aes_block:
        protocol[task.name] = {**(run_config.get(task.name) or {}), **task.aes_block}
    if task.generates_tokens:
        protocol |= {**AES_TEXT, **AES_TOKENS[bool(run_config["reasoning"])]}
    return protocol


def aes_gpus(run_config: dict, machine_gpus: int) -> int | str:
    """AES's device layout: a model whose backend spreads it over its GPUs gets every GPU of
    the machine that runs the jobs, unless its settings state a count or the CPU."""
    task = task_named(run_config.get("task"))
    # The class that runs the model's task on its backend (image generation takes one GPU);
    # a task its backend does not run is refused by the checks that follow.
    spread = task.runs_on(run_config["backend"]) \
        and task.implementation(run_config["backend"]).spreads_over_gpus
    if (run_config["gpus"] != AUTO_GPUS or run_config.get("device") == "cpu"
            or not spread or machine_gpus == 0):
        return run_config["gpus"]
    return machine_gpus


def apply_preset(preset: str | None, run_config: dict, machine_gpus: int = 0) -> dict:
    """``run_config`` under ``preset`` (``None``: unchanged), recording the protocol;
    ``machine_gpus``: the GPUs of the machine that runs the jobs."""
    if preset is None:
        return run_config
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    return {**run_config, **aes_protocol(run_config),
            "gpus": aes_gpus(run_config, machine_gpus), "protocol": preset}
