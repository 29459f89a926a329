"""Image generation on the PyTorch backend: a diffusers text-to-image pipeline, measured per
trial.

Each trial has one measured window: generating the images of every prompt, in batches of
``batch_size`` prompts (``images_per_prompt`` images each), from the text encoding through
the denoising steps to the decoded images. As for text generation, a window repeats whole
passes over the batches until it lasts as long as the meters need (AES's protocol: one pass),
and its figures count every image it made. Images are written to the run's directory only
with ``save_images``, after the window closes, so writing them is never measured.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from energybench.run.backends import Backend, Trial, latencies, repeat_passes, resolve_device
from energybench.run.backends.pytorch import resolve_dtype, torch_peak_memory
from energybench.run.errors import ConfigError
from energybench.run.model_settings import ImageGeneration
from energybench.run.settings import RunConfig, is_local_model
from energybench.run.energy.checks import WINDOW_RELATIVE_RESOLUTION
from energybench.run.prompts import load_prompts

log = logging.getLogger(__name__)

TASK = "image_generation"
IMAGES_DIR = "images"
# Every diffusers pipeline refuses sizes that are not a multiple of 8 (Stable Diffusion's
# VAE); a pipeline whose transformer packs latents into patches needs twice its VAE's factor.
SMALLEST_SIZE_MULTIPLE = 8


class ImageSettings(ImageGeneration):
    """The ``image_generation`` block of a model's settings (its fields and defaults are
    energybench.run.model_settings.ImageGeneration's); None: the pipeline's default."""

    @classmethod
    def of(cls, run_config) -> ImageSettings:
        return cls.model_validate(run_config.get(TASK) or {})

    def call_arguments(self) -> dict:
        """The pipeline's arguments these settings set (the others keep its defaults)."""
        given = {
            "num_inference_steps": self.steps,
            "height": self.height,
            "width": self.width,
            "guidance_scale": self.guidance_scale,
        }
        return {
            "num_images_per_prompt": self.images_per_prompt,
            **{name: value for name, value in given.items() if value is not None},
        }


def size_multiple(model_dir: Path) -> int | None:
    """The multiple a pipeline saved in ``model_dir`` needs its image height and width to be,
    read from its VAE's config (None where the directory holds no VAE config)."""
    config = model_dir / "vae" / "config.json"
    if not config.is_file():
        return None
    factor = 2 ** (len(json.loads(config.read_text()).get("block_out_channels", [0])) - 1)
    patched = (model_dir / "transformer").is_dir()
    return factor * 2 if patched else max(SMALLEST_SIZE_MULTIPLE, factor)


def size_problems(settings: ImageSettings, multiple: int, why: str) -> list[str]:
    return [
        f"field '{TASK}.{side}': {value} is not a multiple of {multiple} ({why})"
        for side, value in (("height", settings.height), ("width", settings.width))
        if value is not None and value % multiple
    ]


class DiffusionBackend(Backend):
    """The pytorch backend's image generation (energybench.run.tasks: ``image_generation``)."""

    name = "pytorch"
    spreads_over_gpus = False

    @classmethod
    def task_problems(cls, run_config) -> list[str]:
        """Image sizes a pipeline refuses, named before any job runs: the multiple the
        model's VAE needs where its directory is here (a tiny model's is always 8), else
        the multiple every pipeline needs (the run checks the model's own after loading)."""
        settings = ImageSettings.of(run_config)
        model_dir = Path(run_config["id"]).expanduser()
        multiple = (
            None
            if "tiny" in run_config or not is_local_model(run_config["id"])
            else size_multiple(model_dir)
        )
        if multiple is None:
            return size_problems(
                settings, SMALLEST_SIZE_MULTIPLE, "every diffusers pipeline needs that"
            )
        return size_problems(settings, multiple, f"the VAE of {model_dir} needs that")

    def __init__(self, cfg: RunConfig, run_dir: Path | None = None):
        from diffusers import DiffusionPipeline

        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir else None
        self.settings = ImageSettings.of(cfg.to_dict())
        self.device = resolve_device(cfg.device, cfg.gpus_held)
        self.torch_dtype = resolve_dtype(cfg.dtype, self.device)
        self.gpus = 1 if self.device == "cuda" else 0
        # Prompts first: a wrong dataset fails in a second, not after loading the weights.
        prompts = load_prompts(
            cfg.dataset,
            cfg.num_prompts + cfg.warmup_prompts,
            cfg.dataset_column,
            cfg.dataset_split,
            cfg.prompt_prefix,
        )
        log.info("loading %s (%s on %s)", cfg.id, self.torch_dtype, self.device)
        self.pipeline = DiffusionPipeline.from_pretrained(cfg.id, dtype=self.torch_dtype)
        self.pipeline.to(self.device)
        self.pipeline.set_progress_bar_config(disable=True)
        vae_factor = getattr(self.pipeline, "vae_scale_factor", None)
        if vae_factor:
            multiple = max(SMALLEST_SIZE_MULTIPLE, vae_factor)
            problems = size_problems(self.settings, multiple, f"the VAE of {cfg.id} needs that")
            if problems:
                raise ConfigError("; ".join(problems))
        self.warmup_prompts = prompts[cfg.num_prompts :]
        self.prompts = prompts[: cfg.num_prompts]

    def info(self) -> dict:
        import diffusers
        import torch

        components = [
            c for c in self.pipeline.components.values() if isinstance(c, torch.nn.Module)
        ]
        return {
            "name": "pytorch",
            "torch": torch.__version__,
            "diffusers": diffusers.__version__,
            "pipeline": type(self.pipeline).__name__,
            "device": self.device,
            "dtype": str(self.torch_dtype).removeprefix("torch."),
            "parameters": sum(p.numel() for c in components for p in c.parameters()),
            "image_generation": {
                **self.settings.model_dump(),
                "call_arguments": self.settings.call_arguments(),
            },
            # Beside the report, one folder per trial, when asked (save_images).
            "images_dir": IMAGES_DIR if self.settings.save_images else None,
        }

    def peak_memory(self) -> dict:
        return torch_peak_memory(self.device)

    def _batches(self, prompts: list[str]) -> list[list[str]]:
        size = self.cfg.batch_size
        return [prompts[i : i + size] for i in range(0, len(prompts), size)]

    def _synchronize(self) -> None:
        import torch

        if self.gpus:
            torch.cuda.synchronize()

    def _generate(self, prompts: list[str], keep: bool) -> tuple[float, int, list]:
        """(the batch's latency in seconds, its prompts, its images when ``keep``)."""
        import torch

        generator = torch.Generator(self.device).manual_seed(self.cfg.seed)
        self._synchronize()
        start = time.perf_counter()
        with torch.inference_mode():
            output = self.pipeline(
                prompt=prompts,
                generator=generator,
                output_type="pil" if keep else "np",
                **self.settings.call_arguments(),
            )
        self._synchronize()
        return time.perf_counter() - start, len(prompts), output.images if keep else []

    def warm_up(self) -> None:
        for batch in self._batches(self.warmup_prompts):
            self._generate(batch, keep=False)

    def run_trial(self, index: int, monitor) -> Trial:
        """The images of every prompt, in whole passes over the batches until the window is
        long enough for the meters (one pass under AES's protocol)."""
        minimum_s = (
            0.0
            if self.cfg.runs_each_prompt_once
            else monitor.minimum_window_s(WINDOW_RELATIVE_RESOLUTION)
        )
        batches, window, passes = repeat_passes(
            f"trial{index}.generate",
            monitor,
            self._batches(self.prompts),
            lambda batch, first_pass: self._generate(
                batch, keep=self.settings.save_images and first_pass
            ),
            log,
            minimum_s=minimum_s,
        )
        images = [image for _, _, made in batches for image in made]
        self._save(images, index)
        return Trial(
            index=index,
            window=window,
            summary=image_summary(
                [(latency, prompts) for latency, prompts, _ in batches],
                self.settings.images_per_prompt,
                window.duration_s,
            ),
            extra={"generate_passes": passes},
        )

    def _save(self, images: list, index: int) -> None:
        """The first pass's images as PNG files under the run's directory, when asked."""
        if not images or self.run_dir is None:
            return
        folder = self.run_dir / IMAGES_DIR / f"trial{index}"
        folder.mkdir(parents=True, exist_ok=True)
        for number, image in enumerate(images):
            image.save(folder / f"{number:05d}.png")


def image_summary(
    batches: list[tuple[float, int]], images_per_prompt: int, duration_s: float
) -> dict:
    """The summary of one measured window of batches, each (latency in seconds, prompts):
    AI Energy Score's counts and timings (a prompt's latency is its batch's; no tokens are
    generated, so the token figures are null), and the images made, per second and per image."""
    prompts = sum(n for _, n in batches)
    images = prompts * images_per_prompt
    return {
        "total_prompts": prompts,
        "successful_prompts": prompts,
        "failed_prompts": 0,
        "total_duration_seconds": duration_s,
        **latencies(
            sum(latency * n for latency, n in batches) / prompts,
            None,
            alone=all(n == 1 for _, n in batches),
        ),
        "total_tokens": None,
        "total_prompt_tokens": None,
        "total_completion_tokens": None,
        "throughput_tokens_per_second": None,
        "completion_tokens_per_second": None,
        "images_generated": images,
        "images_per_second": images / duration_s if duration_s > 0 else None,
        "avg_seconds_per_image": sum(latency for latency, _ in batches) / images,
    }
