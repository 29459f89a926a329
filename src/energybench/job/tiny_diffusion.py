"""A tiny random-weight text-to-image pipeline, built offline, so image generation runs end to
end anywhere.

It is a real diffusers Stable Diffusion pipeline (a small UNet, VAE and CLIP text encoder,
with a byte-level BPE tokenizer trained here as the tiny Llama's is), loaded and run through
exactly the code paths a real checkpoint takes; its images are noise and its energy figures
say nothing about real models.
"""

from __future__ import annotations

from pathlib import Path

from energybench.job.tiny import staged_directory, train_tokenizer
from energybench.run.files import json_text

TEXT_LENGTH = 77  # CLIP's prompt length, which the pipeline pads every prompt to
LATENT_CHANNELS = 4


def build_tiny_diffusion_pipeline(
    out_dir: str | Path, seed: int = 0, vocab_size: int = 512
) -> Path:
    """Write a random-weight Stable Diffusion pipeline to ``out_dir`` (atomically): a UNet of
    two 32-channel blocks, a VAE of two blocks (its images are twice the latents' size) and a
    two-layer CLIP text encoder with its tokenizer."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = train_tokenizer(vocab_size)
    tokenizer.model_max_length = TEXT_LENGTH
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=TEXT_LENGTH,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        block_out_channels=(32, 32),
        layers_per_block=1,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=LATENT_CHANNELS,
        block_out_channels=(16, 16),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    with staged_directory(out_dir) as staging:
        pipeline.save_pretrained(staging)
        (staging / "energybench_tiny.json").write_text(
            json_text(
                {
                    "note": "random weights, built by energybench.job.tiny_diffusion; images are noise",
                    "architecture": "stable_diffusion",
                    "vocab_size": len(tokenizer),
                    "seed": seed,
                }
            )
        )
    return Path(out_dir)
