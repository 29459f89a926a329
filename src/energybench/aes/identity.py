"""How AI Energy Score names a model run: its Hugging Face id, class, task and the model
list's reasoning-state text."""

from __future__ import annotations

from energybench.run.settings import is_local_model
from energybench.run.tasks import TASKS, known_task
from energybench.run.quantization import named

# Our task names and AES's (its model lists and master_results.csv say `text_gen`).
AES_TASKS = {task.name: task.aes_name for task in TASKS.values()}
OUR_TASKS = {aes: ours for ours, aes in AES_TASKS.items()}


def model_name(config: dict, key: str) -> str:
    """The Hugging Face id AES names a model by; a local or tiny model has none, so its key.
    A quantized run's name carries its scheme (``org/name [quanto-int8]``): it is not the
    checkpoint AES's row of that id measured."""
    model_id = config.get("id")
    if not model_id or "tiny" in config or is_local_model(model_id):
        return named(key, config.get("quantization"))
    return named(model_id, config.get("quantization"))


def reasoning_state(config: dict) -> str:
    """The model list's text (e.g. ``On (High)``); for a model not imported from one, AES's
    plain ``On`` / ``Off``."""
    return config.get("reasoning_state") or ("On" if config.get("reasoning") else "Off")


def identity(config: dict, key: str) -> dict:
    """The four columns that name a run in AES's master_results.csv: a task AES rates
    without classes (image generation) has a blank class, as in AES's model lists."""
    task = known_task(config.get("task"))
    return {
        "model_name": model_name(config, key),
        "model_class": (config.get("class") or "") if task is None or task.rated_per_class else "",
        "task": AES_TASKS.get(config.get("task"), config.get("task") or ""),
        "reasoning_state": reasoning_state(config) if task is None or task.generates_tokens else "",
    }
