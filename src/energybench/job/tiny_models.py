"""The tiny model a model's ``tiny`` settings describe, built offline (the tiny-model step)."""

from __future__ import annotations

from pathlib import Path

from energybench.job.tiny import build_tiny_model
from energybench.job.tiny_diffusion import build_tiny_diffusion_pipeline


def build_tiny(out_dir: str | Path, spec: dict) -> Path:
    """Build the tiny model a model's ``tiny`` settings describe: a Llama causal LM (with
    ``labels``, a sequence classifier), or with ``kind: diffusion`` a text-to-image pipeline
    (energybench.job.tiny_diffusion)."""
    spec = dict(spec)
    if spec.pop("kind", "llama") == "diffusion":
        return build_tiny_diffusion_pipeline(out_dir, **spec)
    return build_tiny_model(out_dir, **spec)
