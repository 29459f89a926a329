"""Weight quantization at load time: the `quantization` setting, what the report records of it,
and the name a quantized run goes by.

One method so far, optimum-quanto through transformers (`QuantoConfig`): the checkpoint's
weights are quantized to ``int8`` or ``int4`` as the model loads, activations keep the model's
``dtype``. It runs on the CPU and on CUDA, so a CPU can test it. A quantized run is named by
its scheme everywhere (``quanto-int8``), never as its original.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

LIBRARY = "optimum-quanto"
BITS = {"int8": 8, "int4": 4}
"""The weight types of the setting, with their bits (quanto's float8 and int2 are left out:
float8 has no CPU kernel worth measuring, int2 loses too much to be compared)."""
COMPILED_CPU_KERNEL = ("int4",)
"""Weight types whose CPU path optimum-quanto compiles with the machine's C++ compiler on
first use (its packed-weight unpacking kernel)."""


def scheme(setting: Mapping | None) -> str | None:
    """The short name of a quantization setting (``quanto-int8``), or None for none."""
    if not setting:
        return None
    return f"{setting['method']}-{setting['weights']}"


def named(name: str, setting: Mapping | None) -> str:
    """A model's name with its scheme, so a quantized run never reads as its original."""
    label = scheme(setting)
    return f"{name} [{label}]" if label else name


def loading_arguments(setting: Mapping | None) -> dict:
    """``from_pretrained``'s arguments that quantize the weights as they load."""
    if not setting:
        return {}
    from transformers import QuantoConfig

    return {"quantization_config": QuantoConfig(weights=setting["weights"])}


def record(setting: Mapping | None) -> dict | None:
    """What the report records of the quantization a run applied (None for none)."""
    if not setting:
        return None
    try:
        version = metadata.version(LIBRARY)
    except metadata.PackageNotFoundError:
        version = None
    return {
        "scheme": scheme(setting),
        "method": setting["method"],
        "weights": setting["weights"],
        "bits": BITS[setting["weights"]],
        "activations": "unquantized (the model's dtype)",
        "library": LIBRARY,
        "version": version,
    }


def checkpoint_quantization(model_config: Mapping) -> str | None:
    """The quantization a checkpoint's config.json says its weights already have (its
    ``quantization_config.quant_method``), or None."""
    found = model_config.get("quantization_config")
    if not found:
        return None
    return str(found.get("quant_method") or "unnamed") if isinstance(found, Mapping) else "unnamed"


def already_quantized(model_config: Mapping) -> str | None:
    """Why a checkpoint cannot be quantized again, or None."""
    method = checkpoint_quantization(model_config)
    if method is None:
        return None
    return (
        f"the checkpoint is already quantized (its config.json has a quantization_config, "
        f"quant_method {method!r}): run it without `quantization`, or name its "
        "unquantized original"
    )


def checkpoint_config(model_dir: str | Path) -> dict | None:
    """A local checkpoint's config.json, or None where it has none readable."""
    try:
        return json.loads((Path(model_dir).expanduser() / "config.json").read_text())
    except (OSError, ValueError):
        return None
