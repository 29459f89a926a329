"""The PyTorch / transformers backend: greedy batched generation, measured per phase and trial.

Each trial has two measured windows over the same batches, as AI Energy Score and
optimum-benchmark split inference: *prefill* (a 1-token generation: reading the prompt) and
*generate* (the full generation). A single pass can be too short for an energy counter
(a 50 ms pass at 400 W is 20 J, below what the counter resolves), so each window repeats
whole passes over the batches until it lasts as long as the meters need for 2 % (the
prefill window also until it has run at least ``PREFILL_MIN_BATCHES`` batches). The prefill
figure is its window divided by the passes; the generate window's figures count every
prompt it ran, so per-token and per-query figures divide by all of them. Decode is generate
minus prefill, computed in ``energybench.run.energy``; the backend only times, counts and
opens/closes meter windows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from energybench.run.backends import (
    Backend,
    Trial,
    latencies,
    repeat_passes,
    resolve_device,
    throughputs,
)
from energybench.run.errors import ConfigError, out_of_space
from energybench.run.settings import RunConfig, is_local_model
from energybench.run.energy.checks import WINDOW_RELATIVE_RESOLUTION
from energybench.run.prompts import load_prompts
from energybench.run.quantization import already_quantized, loading_arguments, record

log = logging.getLogger(__name__)

PREFILL_MIN_BATCHES = 10


@dataclass
class BatchTiming:
    prompts: int
    latency_s: float
    time_to_first_token_s: float | None
    prompt_tokens: int
    completion_tokens: int


def not_on_the_hub(model_id: str, error: OSError) -> ConfigError:
    """A model id found neither as a local directory nor on the Hub (or in its cache, offline):
    the id, why it was read as a Hub id, and the fix for either reading."""
    cause = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return ConfigError(
        f"model id {model_id!r} cannot be loaded: it was read as a Hugging Face Hub id, since "
        f"nothing of that name exists in {Path.cwd()} and it does not start with ./, ../, / or "
        f"~, and neither the Hub nor its cache (HF_HOME) has it ({cause}). A local directory "
        f"needs a path (e.g. ./{model_id}); a Hub model its exact id, and HF_TOKEN when gated"
    )


class _FirstTokenClock:
    """A stopping criterion that never stops: it notes when the first new token exists."""

    def __init__(self):
        self.first_token_at: float | None = None

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        if self.first_token_at is None:
            if input_ids.is_cuda:
                torch.cuda.synchronize(input_ids.device)
            self.first_token_at = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def resolve_dtype(requested: str, device: str):
    import torch

    if requested == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, requested)


def format_prompts(tokenizer, prompts: list[str], cfg: RunConfig) -> list[str]:
    """Apply the model's chat template (with reasoning switches) where it has one."""
    if not getattr(tokenizer, "chat_template", None):
        return prompts
    template_kwargs = {"enable_thinking": cfg.reasoning}
    template_kwargs.update(cfg.reasoning_params)
    return [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": text}],
            add_generation_prompt=True,
            tokenize=False,
            **template_kwargs,
        )
        for text in prompts
    ]


def context_length(model_config, tokenizer) -> int | None:
    """The most tokens the model takes (prompt and answer): its position embeddings, or the
    tokenizer's limit where that is a real one (transformers' "unset" is a huge number)."""
    limits = [
        getattr(model_config, "max_position_embeddings", None),
        getattr(tokenizer, "model_max_length", None),
    ]
    known = [limit for limit in limits if isinstance(limit, int) and 0 < limit < 10**7]
    return min(known, default=None)


def sampling(temperature: float | None) -> dict:
    """``generate``'s decoding arguments: greedy, or sampling at ``temperature`` (seeded)."""
    if temperature is None:
        return {"do_sample": False}
    return {"do_sample": True, "temperature": temperature}


def _count_completion_tokens(new_tokens, eos_ids: set[int], pad_id: int | None) -> int:
    """Generated tokens per sequence up to and including the first end-of-sequence token."""
    total = 0
    for row in new_tokens.tolist():
        length = len(row)
        for position, token in enumerate(row):
            if token in eos_ids:
                length = position + 1
                break
            if pad_id is not None and token == pad_id and pad_id not in eos_ids:
                length = position
                break
        total += length
    return total


def spread_placement(gpus: int) -> dict | None:
    """``from_pretrained``'s placement of a model over the ``gpus`` GPUs the run sees (its
    job's), as AI Energy Score loads every model: ``device_map: auto`` (accelerate's balanced
    split), each GPU up to its free memory and nothing on the CPU or disk, whose offloading
    would move the energy off the GPUs that are metered (a model too large then fails to
    load, saying so). None for one GPU or none: the model is loaded whole, then moved."""
    import torch

    if gpus < 2:
        return None
    return {
        "device_map": "auto",
        "max_memory": {index: torch.cuda.mem_get_info(index)[0] for index in range(gpus)},
    }


def torch_peak_memory(device: str) -> dict:
    """torch's own peaks of the run's device (``Backend.peak_memory``): CUDA memory only."""
    import torch

    if device != "cuda":
        return {
            "framework_allocated_bytes": None,
            "framework_reserved_bytes": None,
            "framework_reason": "the model ran on the CPU: torch keeps peaks of CUDA memory only",
        }
    return {
        "framework_allocated_bytes": torch.cuda.max_memory_allocated(),
        "framework_reserved_bytes": torch.cuda.max_memory_reserved(),
        "framework_reason": None,
    }


def device_names(model) -> list[str]:
    """The devices a model's weights are on, in the order of its device map."""
    placed = getattr(model, "hf_device_map", None) or {"": next(model.parameters()).device}
    return list(dict.fromkeys(str(device) for device in placed.values()))


class PyTorchBackend(Backend):
    name = "pytorch"
    spreads_over_gpus = True
    quantizes_weights = True

    auto_model = "AutoModelForCausalLM"
    """The transformers class the task's checkpoint loads with."""
    padding_side = "left"

    def __init__(self, cfg: RunConfig, run_dir: Path | None = None):
        self._load(cfg)
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        texts = format_prompts(self.tokenizer, self.prompts, cfg)
        self.truncate_to, self.prompts_truncated = self._prompt_room(texts, cfg.max_new_tokens)
        self.warmup_texts = texts[cfg.num_prompts :]
        self.texts = texts[: cfg.num_prompts]

    def _load(self, cfg: RunConfig) -> None:
        """The prompts, the tokenizer and the model (``auto_model``) on its device(s)."""
        import torch
        import transformers
        from transformers import AutoTokenizer

        self.cfg = cfg
        self.device = resolve_device(cfg.device, cfg.gpus_held)
        self.torch_dtype = resolve_dtype(cfg.dtype, self.device)
        torch.manual_seed(cfg.seed)
        if is_local_model(cfg.id) and not (Path(cfg.id).expanduser() / "config.json").is_file():
            raise ConfigError(
                f"model directory {cfg.id} has no config.json: it is not a "
                "transformers model (save one with save_pretrained)"
            )
        # Prompts first: a wrong dataset fails in a second, not after loading the weights.
        self.prompts = load_prompts(
            cfg.dataset,
            cfg.num_prompts + cfg.warmup_prompts,
            cfg.dataset_column,
            cfg.dataset_split,
            cfg.prompt_prefix,
        )
        log.info("loading %s (%s on %s)", cfg.id, self.torch_dtype, self.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(cfg.id, padding_side=self.padding_side)
        except OSError as exc:  # transformers' word for a model it found nowhere
            if is_local_model(cfg.id) or out_of_space(exc):
                raise
            raise not_on_the_hub(cfg.id, exc) from None
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.gpus = torch.cuda.device_count() if self.device == "cuda" else 0
        quantize = loading_arguments(cfg.quantization)
        if quantize:  # the plan checks what it can read; a Hub checkpoint is read here
            self._refuse_quantized_checkpoint(cfg.id)
        auto_model = getattr(transformers, self.auto_model)
        placement = spread_placement(self.gpus)
        if placement:  # the job holds several GPUs: the model is spread over them
            self.model = auto_model.from_pretrained(
                cfg.id, dtype=self.torch_dtype, **placement, **quantize
            )
        else:
            self.model = auto_model.from_pretrained(cfg.id, dtype=self.torch_dtype, **quantize)
            self.model.to(self.device)
        self.model.eval()
        # Prompts go to the device of the first layers (the embeddings) of a spread model.
        self.input_device = self.model.device
        log.info("model on %s", ", ".join(device_names(self.model)))

    @classmethod
    def task_problems(cls, run_config) -> list[str]:
        if run_config.get("tiny", {}).get("labels"):
            return [
                "tiny.labels: builds a sequence classifier, which text_generation cannot "
                "run (task: text_classification, or leave labels out)"
            ]
        return []

    @staticmethod
    def _refuse_quantized_checkpoint(model_id: str) -> None:
        from transformers import AutoConfig

        why = already_quantized(AutoConfig.from_pretrained(model_id).to_dict())
        if why:
            raise ConfigError(f"quantization: {why}")

    def _prompt_room(self, texts: list[str], new_tokens: int) -> tuple[int | None, int]:
        """(the prompt length to truncate to, or None; how many prompts are truncated): a
        prompt whose tokens and ``new_tokens`` exceed the model's context is refused, or with
        ``prompt_overflow: truncate`` cut to fit, keeping its start."""
        context = context_length(self.model.config, self.tokenizer)
        if context is None:
            return None, 0
        room = context - new_tokens
        lengths = [len(ids) for ids in self.tokenizer(texts)["input_ids"]]
        over = [(row, length) for row, length in enumerate(lengths, start=1) if length > room]
        if not over:
            return None, 0
        if self.cfg.prompt_overflow == "truncate" and room > 0:
            return room, len(over)
        shown = ", ".join(f"prompt {row}: {length} tokens" for row, length in over[:5])
        raise ConfigError(
            f"{len(over)} prompt(s) are longer than the model's context allows: its "
            f"{context} tokens{f' less max_new_tokens ({new_tokens})' if new_tokens else ''} "
            f"leave {room} for a prompt; {shown}{' ...' if len(over) > 5 else ''}. Shorten them, lower "
            "max_new_tokens, or set prompt_overflow: truncate"
        )

    def info(self) -> dict:
        import torch
        import transformers

        return {
            "prompts_truncated": self.prompts_truncated,
            "prompt_tokens_kept": self.truncate_to,
            "name": "pytorch",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            # The dtype the weights really have, not the one asked for.
            "device": self.device,
            "devices": device_names(self.model),
            # Which device holds which module; a model on one device has none.
            "device_map": {
                module: str(device)
                for module, device in (getattr(self.model, "hf_device_map", None) or {}).items()
            },
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "parameters": sum(p.numel() for p in self.model.parameters()),
            # The weights' quantization: the setting's (scheme, bits, library and version),
            # or the one the checkpoint came with (by its config).
            "quantization": record(self.cfg.quantization) or self._checkpoint_quantization(),
        }

    def _checkpoint_quantization(self) -> dict | None:
        method = getattr(self.model.config, "quantization_config", None)
        if method is None:
            return None
        found = method if isinstance(method, dict) else method.to_dict()
        return {
            "scheme": str(found.get("quant_method")),
            "source": "checkpoint",
            "bits": found.get("bits"),
        }

    def peak_memory(self) -> dict:
        return torch_peak_memory(self.device)

    def _batches(self, texts: list[str]):
        size = self.cfg.batch_size
        return [texts[i : i + size] for i in range(0, len(texts), size)]

    def _synchronize(self):
        import torch

        for index in range(self.gpus):
            torch.cuda.synchronize(index)  # every GPU the model is spread over

    def _generate(self, texts: list[str], max_new_tokens: int, min_new_tokens: int) -> BatchTiming:
        import torch

        inputs = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=self.truncate_to is not None,
            max_length=self.truncate_to,
        ).to(self.input_device)
        clock = _FirstTokenClock()
        self._synchronize()
        start = time.perf_counter()
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                **sampling(self.cfg.temperature),
                max_new_tokens=max_new_tokens,
                min_new_tokens=min_new_tokens,
                stopping_criteria=[clock],
                pad_token_id=self.tokenizer.pad_token_id,
            )
        self._synchronize()
        latency = time.perf_counter() - start
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return BatchTiming(
            prompts=len(texts),
            latency_s=latency,
            time_to_first_token_s=None
            if clock.first_token_at is None
            else clock.first_token_at - start,
            prompt_tokens=int(inputs["attention_mask"].sum()),
            completion_tokens=_count_completion_tokens(
                new_tokens, self.eos_ids, self.tokenizer.pad_token_id
            ),
        )

    def warm_up(self) -> None:
        for batch in self._batches(self.warmup_texts):
            self._generate(batch, self.cfg.max_new_tokens, self.cfg.effective_min_new_tokens)

    def _repeat_passes(
        self, name: str, monitor, run_batch, min_batches: int = 1, *, once: bool = False
    ) -> tuple[list[BatchTiming], object, int]:
        """Whole passes over the batches in one window, repeated until it lasts
        ``monitor.minimum_window_s(WINDOW_RELATIVE_RESOLUTION)`` (the shortest window its
        meters resolve to 2 %) and ran at least ``min_batches`` batches (one pass when
        ``once``), each batch run by ``run_batch``; returns every batch's timing, the window
        and the number of passes."""
        minimum_s = 0.0 if once else monitor.minimum_window_s(WINDOW_RELATIVE_RESOLUTION)
        return repeat_passes(
            name,
            monitor,
            self._batches(self.texts),
            lambda batch, _: run_batch(batch),
            log,
            minimum_s=minimum_s,
            min_batches=min_batches,
        )

    def run_trial(self, index: int, monitor) -> Trial:
        """Prefill (1-token generations) then the full generation, over the same batches,
        each repeated in whole passes until its window is long enough for the meters."""
        _, prefill, prefill_passes = self._repeat_passes(
            f"trial{index}.prefill",
            monitor,
            lambda batch: self._generate(batch, 1, 1),
            PREFILL_MIN_BATCHES,
        )
        timings, generate, passes = self._repeat_passes(
            f"trial{index}.generate",
            monitor,
            lambda batch: self._generate(
                batch, self.cfg.max_new_tokens, self.cfg.effective_min_new_tokens
            ),
            once=self.cfg.runs_each_prompt_once,
        )
        return Trial(
            index=index,
            summary=window_summary(timings, generate.duration_s),
            window=generate,
            phase_windows={"prefill": prefill},
            extra={"prefill_passes": prefill_passes, "generate_passes": passes},
        )


def window_summary(batches: list[BatchTiming], duration_s: float) -> dict:
    """The AI Energy Score summary figures of one measured window of batches, by AES's
    definitions (docs/aes.md); ours, where they differ, under their own names."""
    prompts = sum(b.prompts for b in batches)
    completion = sum(b.completion_tokens for b in batches)
    prompt_tokens = sum(b.prompt_tokens for b in batches)
    ttfts = [
        (b.time_to_first_token_s, b.prompts) for b in batches if b.time_to_first_token_s is not None
    ]
    # Every prompt of a batch waits for the whole batch: its latency is the batch's.
    batch_ttft = (sum(t * n for t, n in ttfts) / sum(n for _, n in ttfts)) if ttfts else None
    return {
        "total_prompts": prompts,
        "successful_prompts": prompts,
        "failed_prompts": 0,
        "total_duration_seconds": duration_s,
        **latencies(
            sum(b.latency_s * b.prompts for b in batches) / prompts,
            batch_ttft,
            alone=all(b.prompts == 1 for b in batches),
        ),
        "total_tokens": prompt_tokens + completion,
        "total_prompt_tokens": prompt_tokens,
        "total_completion_tokens": completion,
        **throughputs(prompt_tokens + completion, completion, duration_s),
    }
