"""Tiny random-weight causal LMs, built offline, so the pipeline runs end to end anywhere.

They are real transformers models (Llama architecture, a byte-level BPE tokenizer trained here
and a chat template), exercised through exactly the code paths a real checkpoint takes; their
outputs are meaningless and their energy figures say nothing about real models.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from energybench.job.keys import child_path
from energybench.run.files import json_text, shared_mode

# Text the tokenizer is trained on; written for this project. Byte-level BPE encodes any input.
_TOKENIZER_CORPUS = """\
Energy is measured in joules; one watt-hour is 3600 joules.
A benchmark runs the same prompts through every model and records time, tokens and energy.
The graphics processor reports its total energy through a counter that only grows.
Idle power is what the machine draws while doing nothing; dynamic energy is what the work adds.
Prefill reads the prompt in one pass, and decoding then produces one token after another.
Questions, answers, summaries and short stories make up the prompt set of this project.
""".splitlines()

SPECIAL_TOKENS = {
    "bos_token": "<|bos|>",
    "eos_token": "<|eos|>",
    "pad_token": "<|pad|>",
    "unk_token": "<|unk|>",
}

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|{{ message['role'] }}|>{{ message['content'] }}{{ eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>"
    "{% if enable_thinking is defined and enable_thinking %}<think>{% endif %}{% endif %}"
)


def train_tokenizer(vocab_size: int):
    """A byte-level BPE tokenizer of ``vocab_size`` tokens trained on a small fixed corpus,
    with the chat template the tiny models share: the tokenizer of every tiny model, text
    generator or diffusion pipeline."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_TOKENIZER_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(
    out_dir: str | Path,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int | None = None,
    vocab_size: int = 512,
    seed: int = 0,
    num_key_value_heads: int | None = None,
    model_vocab_size: int | None = None,
    dtype: str = "float32",
    device: str = "cpu",
    labels: int | None = None,
) -> Path:
    """Write a random-weight Llama causal LM and its tokenizer to ``out_dir`` (atomically);
    with ``labels``, a Llama sequence classifier with that many labels instead.

    The head size (hidden_size / num_heads) must be 64 or more for vLLM's CPU attention kernels.
    ``model_vocab_size`` gives a real architecture's embedding size (the small tokenizer uses
    only its first ids); ``dtype`` and ``device`` let a GPU build a large model quickly.
    """
    out_dir = child_path(out_dir)  # replaced below: it must be a model's own directory
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

    if hidden_size % num_heads:
        raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
    tokenizer = train_tokenizer(vocab_size)
    config = LlamaConfig(
        vocab_size=max(model_vocab_size or 0, len(tokenizer)),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_key_value_heads or num_heads,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=labels is None,
        **({"num_labels": labels} if labels else {}),
    )
    torch.manual_seed(seed)
    with torch.device(device):
        model = (LlamaForSequenceClassification if labels else LlamaForCausalLM)(config)
        model = model.to(getattr(torch, dtype))
    if labels is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id

    with staged_directory(out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "energybench_tiny.json").write_text(
            json_text(
                {
                    "note": "random weights, built by energybench.job.tiny; outputs are meaningless",
                    "hidden_size": hidden_size,
                    "num_layers": num_layers,
                    "num_heads": num_heads,
                    "vocab_size": len(tokenizer),
                    "seed": seed,
                    "labels": labels,
                }
            )
        )
    return out_dir


@contextlib.contextmanager
def staged_directory(out_dir: str | Path):
    """A staging directory beside ``out_dir`` that replaces it, readable by all the umask
    allows, when the block ends without error (and is removed when it does not)."""
    out_dir = child_path(out_dir)  # replaced below: it must be a model's own directory
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield staging
        for path in [staging, *staging.rglob("*")]:  # some writers use mkstemp (0600)
            shared_mode(path, directory=path.is_dir())
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
