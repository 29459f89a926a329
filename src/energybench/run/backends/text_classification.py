"""Text classification on the PyTorch backend: each prompt is one text, classified by a
transformers sequence-classification model in one forward pass (a query: AI Energy Score's
unit for every task). No token is generated, so the task has no prefill/decode split and no
per-token figure; its figures are per text (per 1,000 queries, per response) and texts per
second.

Like text generation, each trial's window repeats whole passes over the batches until it
lasts as long as the meters need (one pass under AES's protocol); the loading, the prompt
set, the quantization and the placement on the devices are the text-generation backend's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from energybench.run.settings import RunConfig
from energybench.run.backends import Trial
from energybench.run.backends.pytorch import BatchTiming, PyTorchBackend, window_summary

# Settings of text generation that mean nothing to a classifier, and what each asks for.
GENERATION_SETTINGS = {
    "reasoning": "a thinking mode",
    "temperature": "sampling",
    "min_new_tokens": "an output length",
}


class TextClassificationBackend(PyTorchBackend):
    auto_model = "AutoModelForSequenceClassification"
    padding_side = "right"

    def __init__(self, cfg: RunConfig, run_dir: Path | None = None):
        self._load(cfg)
        texts = self.prompts  # a classifier reads the text itself: no chat template
        self.truncate_to, self.prompts_truncated = self._prompt_room(texts, 0)
        self.warmup_texts = texts[cfg.num_prompts :]
        self.texts = texts[: cfg.num_prompts]

    @classmethod
    def task_problems(cls, run_config: Mapping) -> list[str]:
        """Generation settings on a classifier would be silently ignored: refused."""
        problems = [
            f"{field}: {what} is text generation's; text_classification generates "
            "no tokens (leave it out)"
            for field, what in GENERATION_SETTINGS.items()
            if run_config.get(field)
        ]
        if "tiny" in run_config and not run_config["tiny"].get("labels"):
            problems.append(
                "tiny.labels: a tiny text_classification model is a sequence "
                "classifier; give its number of labels (e.g. 2)"
            )
        return problems

    def info(self) -> dict:
        return {**super().info(), "labels": self.model.config.num_labels}

    def _classify(self, texts: list[str]) -> BatchTiming:
        import torch

        inputs = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=self.truncate_to is not None,
            max_length=self.truncate_to,
        ).to(self.input_device)
        self._synchronize()
        start = time.perf_counter()
        with torch.inference_mode():
            self.model(**inputs).logits.argmax(dim=-1)
        self._synchronize()
        return BatchTiming(
            prompts=len(texts),
            latency_s=time.perf_counter() - start,
            time_to_first_token_s=None,
            prompt_tokens=int(inputs["attention_mask"].sum()),
            completion_tokens=0,
        )

    def warm_up(self) -> None:
        for batch in self._batches(self.warmup_texts):
            self._classify(batch)

    def run_trial(self, index: int, monitor) -> Trial:
        """One window of whole passes over the batches, repeated until it is long enough
        for the meters (once under AES's protocol)."""
        timings, window, _ = self._repeat_passes(
            f"trial{index}.classify", monitor, self._classify, once=self.cfg.runs_each_prompt_once
        )
        summary = window_summary(timings, window.duration_s)
        # A classifier generates nothing: no generated-token rate (null, not 0), texts per second.
        summary["completion_tokens_per_second"] = None
        summary["queries_per_second"] = (
            summary["successful_prompts"] / window.duration_s if window.duration_s > 0 else None
        )
        return Trial(index=index, summary=summary, window=window)
