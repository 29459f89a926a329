"""What AI Energy Score's batch runner actually runs for a row of its model list.

AES's runner does not go by the row's reasoning state. Its parser reads the chat-template
cell by model family (the rules of ``model_config_parser``'s fallback, the one its container
uses) into reasoning parameters, and the runner then decides "reasoning" from those
parameters alone: none, or only ones that switch it off, mean 10 new tokens exactly, and it
passes the parameters on only when they switch reasoning on. A prompt prefix its parser finds
(``<think>``, ``/think``) is never passed to the run. So DeepSeek-R1 "On", the gemma-3 "-it"
rows and others run there with reasoning off. ``effective_protocol`` says what that gives;
tests/aes/test_aes_protocol.py checks it against AES's own code, row by row.
"""

from __future__ import annotations

import dataclasses

EFFORT_LEVELS = ("high", "low", "medium")  # in the order AES's parser tries them


@dataclasses.dataclass(frozen=True)
class RunnerProtocol:
    """The settings AES's runner passes for one row."""

    reasoning: bool
    reasoning_params: dict


def _effort(text: str) -> dict | None:
    for level in EFFORT_LEVELS:
        if f"reasoning_effort: {level}" in text or f"reasoning: {level}" in text:
            return {"reasoning_effort": level}
    return {"reasoning_effort": "high"} if "reasoning: true" in text else None


def _thinking_switch(text: str) -> dict | None:
    for value in (True, False):
        if f"enable_thinking={str(value).lower()}" in text:
            return {"enable_thinking": value}
    return None


def _generic_switch(text: str, off_too: bool = True) -> dict | None:
    if "reasoning: true" in text:
        return {"reasoning": True}
    if off_too and "reasoning: false" in text:
        return {"reasoning": False}
    return None


# (substring of the lower-case model id, how the family's cell is read), first match wins.
# Families whose cell only yields a prompt prefix (Nemotron, Qwen's "thinking mode", DeepSeek's
# "<think>") give no parameters.
FAMILIES = (
    ("gpt-oss", _effort),
    ("deepseek", lambda text: None if "<think>" in text else _thinking_switch(text)),
    ("qwen", _thinking_switch),
    (
        "hunyuan",
        lambda text: (
            None
            if "/think" in text
            else {"enable_thinking": False}
            if "enable_thinking=false" in text
            else None
        ),
    ),
    ("exaone", _thinking_switch),
    ("nemotron", lambda text: None),
    ("phi", _generic_switch),
    ("smollm", _generic_switch),
    ("gemma", lambda text: _generic_switch(text, off_too=False)),
)


def runner_params(model_id: str, cell: str) -> dict | None:
    """The reasoning parameters AES's parser reads from a chat-template cell."""
    text = cell.strip().lower()
    if not text or "n/a" in text:
        return None
    lowered_id = model_id.lower()
    read = next((read for family, read in FAMILIES if family in lowered_id), _generic_switch)
    return read(text)


def reasoning_enabled(params: dict | None) -> bool:
    """AES's rule: any parameter turns reasoning on unless one of them switches it off."""
    if not params:
        return False
    return not (
        params.get("enable_thinking") is False
        or params.get("reasoning") is False
        or params.get("reasoning_effort") == "off"
    )


def effective_protocol(model_id: str, cell: str) -> RunnerProtocol:
    """What AES's runner passes for a row: reasoning, and the parameters only when on."""
    params = runner_params(model_id, cell)
    if reasoning_enabled(params):
        return RunnerProtocol(True, dict(params))
    return RunnerProtocol(False, {})
