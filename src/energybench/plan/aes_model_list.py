"""AI Energy Score's model lists (e.g. its ``oct_2025_models.csv``) turned into our model
entries.

A list has the columns ``Models to Add, Priority (1=hi), Class, Task, Reasoning State,
Chat Template`` (AES adds an unnamed index column first). Each usable row becomes one model
entry keyed by the model and its reasoning state; every unusable row is reported with its row
number, column and value, never dropped silently. docs/aes.md lists the rules.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import sys
import textwrap
from pathlib import Path

import yaml

from energybench.aes.identity import OUR_TASKS
from energybench.aes.runner_protocol import effective_protocol
from energybench.run.errors import ConfigError
from energybench.run.files import write_atomic
from energybench.run.settings import AES_REASONING, EFFECTIVE, STATED
from energybench.job.keys import key_problem
from energybench.run.tasks import task_named

MODEL, PRIORITY, CLASS, TASK, STATE, TEMPLATE = (
    "Models to Add",
    "Priority (1=hi)",
    "Class",
    "Task",
    "Reasoning State",
    "Chat Template",
)
COLUMNS = (MODEL, PRIORITY, CLASS, TASK, STATE, TEMPLATE)
CLASSES = ("A", "B", "C")
HUB_URL = re.compile(r"^https?://(?:www\.)?huggingface\.co/", re.IGNORECASE)
HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
STATE_TEXT = re.compile(r"^(on|off)(?:\s*\((.+)\))?$", re.IGNORECASE)
STATE_DETAILS = ("high", "medium", "low", "n/a")  # what AES's lists say in parentheses
# The Hub's pages that are not a model's: https://huggingface.co/<section>/...
HUB_SECTIONS = ("datasets", "spaces", "collections", "papers", "docs", "models", "blog")
# What a chat-template cell may say besides YAML: `key=True/False` switches, prompt directives
# (a prefix the model's card asks for) and the two mode statements in AES's list.
SWITCH = re.compile(r"^\s*(enable_thinking|reasoning)\s*=\s*(true|false)\s*$", re.IGNORECASE)
DIRECTIVES = (  # (pattern in the cell, prompt prefix, reasoning); `</think>` is no directive
    (re.compile(r"(?<![<\w])/no_think\b"), "/no_think ", False),
    (re.compile(r"prepend input with <think>"), "<think>", True),
    (re.compile(r"(?<![<\w])/think\b"), "/think ", True),
)
MODE_STATEMENTS = (("supports only thinking mode", True), ("non-thinking", False))
DEFAULT_TEMPLATE = re.compile(r"^(n/a\b.*|default)?$", re.IGNORECASE)
EFFORTS = ("low", "medium", "high")


class ModelListError(ConfigError):
    """The list as a whole cannot be read (not a CSV, empty, a column missing)."""


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """What is wrong with, or worth saying about, one cell of the list."""

    row: int  # the spreadsheet's row number: the header is row 1
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}, value {self.value!r}: {self.message}"


@dataclasses.dataclass
class ImportResult:
    models: dict[str, dict]
    problems: list[RowProblem]
    notices: list[RowProblem] = dataclasses.field(default_factory=list)
    """Rows imported otherwise than they state, or skipped as another task's: said, not
    refused."""


@dataclasses.dataclass(frozen=True)
class RowOutcome:
    entry: dict | None
    problems: list[RowProblem]
    notices: list[RowProblem]


@dataclasses.dataclass(frozen=True)
class Template:
    """What a chat-template cell asks for."""

    reasoning: bool | None  # None: the cell does not say
    params: dict
    prompt_prefix: str = ""


def parse_template(cell: str) -> Template:
    """Read a chat-template cell; ``ValueError`` says why one cannot be read."""
    text = textwrap.dedent(cell).strip()
    if DEFAULT_TEMPLATE.match(text):
        return Template(None, {})
    switch = SWITCH.match(text)
    if switch:
        value = switch.group(2).lower() == "true"
        params = {"enable_thinking": value} if switch.group(1).lower() == "enable_thinking" else {}
        return Template(value, params)
    lowered = text.lower()
    for statement, reasoning in MODE_STATEMENTS:
        if statement in lowered:
            return Template(reasoning, {})
    for directive, prefix, reasoning in DIRECTIVES:
        if directive.search(lowered):
            return Template(reasoning, {}, prefix)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML and no known directive ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise ValueError(
            "neither a YAML mapping nor a known directive "
            "(reasoning/reasoning_params, enable_thinking=, /think, /no_think)"
        )
    return _template_from_mapping(document)


def _template_from_mapping(document: dict) -> Template:
    params = dict(document.pop("reasoning_params", None) or {})
    for key in ("reasoning_effort", "enable_thinking"):
        if key in document:
            params[key] = document.pop(key)
    reasoning = document.pop("reasoning", None)
    if document:
        raise ValueError(f"unknown keys {', '.join(map(str, document))}")
    unknown = set(params) - {"reasoning_effort", "enable_thinking"}
    if unknown:
        raise ValueError(f"unknown reasoning_params {', '.join(sorted(map(str, unknown)))}")
    if "reasoning_effort" in params:
        params["reasoning_effort"] = str(params["reasoning_effort"]).lower()
        if params["reasoning_effort"] not in EFFORTS:
            raise ValueError(f"reasoning_effort must be one of {', '.join(EFFORTS)}")
        reasoning = True if reasoning is None else reasoning
    if "enable_thinking" in params and not isinstance(params["enable_thinking"], bool):
        raise ValueError("enable_thinking must be True or False")
    if reasoning is None and "enable_thinking" in params:
        reasoning = params["enable_thinking"]
    if reasoning is not None and not isinstance(reasoning, bool):
        raise ValueError("reasoning must be True or False")
    return Template(reasoning, params)


def hf_id(cell: str) -> str:
    """The Hugging Face id of a ``Models to Add`` cell (a hub URL or ``org/name``)."""
    value = cell.strip()
    if re.match(r"^[a-z]+://", value, re.IGNORECASE):
        if not HUB_URL.match(value):
            raise ValueError("not a Hugging Face URL (https://huggingface.co/<org>/<name>)")
        value = HUB_URL.sub("", value).rstrip("/")
        section = value.split("/")[0].lower()
        if section in HUB_SECTIONS:
            raise ValueError(
                f"a page of the Hub's {section}, not a model's "
                "(https://huggingface.co/<org>/<name>)"
            )
    if not HF_ID.match(value):
        raise ValueError("not a Hugging Face model id (<org>/<name>)")
    return value


def model_key(model_id: str, state: str) -> str:
    """``org--name--on-high``: valid as a key and a path component, one per model and state
    (``org--name`` for a row that states none, as image generation's)."""
    slug = re.sub(r"[^a-z0-9]+", "-", state.lower().replace("n/a", "")).strip("-")
    return f"{model_id.replace('/', '--')}" + (f"--{slug}" if slug else "")


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number, {column: cell}) of every non-blank row; the whole file checked first."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelListError(f"AES model list {path}: cannot read it: {exc}") from None
    if b"\x00" in data:
        raise ModelListError(f"AES model list {path}: binary data, not a CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelListError(f"AES model list {path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:  # an unclosed quote, text after a closing quote
        raise ModelListError(
            f"AES model list {path}, line {reader.line_num}: not valid CSV "
            f"({exc}); a cell holding a comma, a quote or a line break must be "
            "in double quotes, with its quotes doubled"
        ) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ModelListError(
            f"AES model list {path} is empty: expected a header with the "
            f"columns {', '.join(COLUMNS)}"
        )
    header = [cell.strip() for cell in records[0]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ModelListError(
            f"AES model list {path}: missing column(s) {', '.join(missing)} "
            f"(header: {', '.join(header)})"
        )
    where = {column: header.index(column) for column in COLUMNS}
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            raise ModelListError(
                f"AES model list {path}, row {number}: {len(record)} cells "
                f"where the header has {len(header)}; a cell holding a comma "
                "must be in double quotes"
            )
        cells = record + [""] * (len(header) - len(record))
        rows.append((number, {column: cells[index] for column, index in where.items()}))
    return rows


def _entry(number: int, row: dict, aes_reasoning: str) -> RowOutcome:
    problems = []

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(number, column, row[column].strip(), message))

    task = row[TASK].strip()
    if task and task not in OUR_TASKS:
        skipped = RowProblem(
            number, TASK, task, f"skipped: this pipeline runs {', '.join(OUR_TASKS)} only"
        )
        return RowOutcome(None, [], [skipped])
    model_id = None
    try:
        model_id = hf_id(row[MODEL])
    except ValueError as exc:
        problem(MODEL, str(exc))
    priority = row[PRIORITY].strip()
    if not priority.isdigit() or int(priority) < 1:
        problem(PRIORITY, "priority must be a whole number >= 1")
    model_class = row[CLASS].strip()
    rated_per_class = not task or task_named(OUR_TASKS[task]).rated_per_class
    if not model_class and rated_per_class:
        problem(CLASS, "blank class (A, B or C)")
    elif model_class and model_class.upper() not in CLASSES:
        problem(CLASS, "unknown class (A, B or C)")
    if not task:
        problem(TASK, f"blank task ({', '.join(OUR_TASKS)})")
    elif not task_named(OUR_TASKS[task]).generates_tokens:
        # AES's rows of such a task (image_gen) state no reasoning and no chat template.
        if problems:
            return RowOutcome(None, problems, [])
        entry = {
            "id": model_id,
            "task": OUR_TASKS[task],
            "reasoning": False,
            "reasoning_state": row[STATE].strip(),
            "priority": int(priority),
            "aes_reasoning": aes_reasoning,
        }
        return RowOutcome(
            entry | ({"class": model_class.upper()} if model_class else {}), problems, []
        )
    state = row[STATE].strip()
    state_match = STATE_TEXT.match(state)
    if not state_match:
        problem(STATE, "reasoning state must be On or Off, optionally with a detail: On (High)")
    template = None
    try:
        template = parse_template(row[TEMPLATE])
    except ValueError as exc:
        problem(TEMPLATE, f"malformed chat-template cell: {exc}")
    if problems:
        return RowOutcome(None, problems, [])
    protocol, notices = _protocol(number, row, model_id, template, state_match, aes_reasoning)
    entry = {
        "id": model_id,
        "class": model_class.upper(),
        "task": OUR_TASKS[task],
        "reasoning": protocol.reasoning,
        "reasoning_params": protocol.params,
        "reasoning_state": state,
        "priority": int(priority),
        "aes_reasoning": aes_reasoning,
    }
    if protocol.prompt_prefix:
        entry["prompt_prefix"] = protocol.prompt_prefix
    return RowOutcome(entry, problems, notices)


def _protocol(
    number: int,
    row: dict,
    model_id: str,
    template: Template,
    state_match: re.Match,
    aes_reasoning: str,
) -> tuple[Template, list[RowProblem]]:
    """What a readable row runs (as AES's runner runs it, or as the row states it), and the
    notices that say where the two differ."""
    state = state_match.group(0)
    notices = []
    detail = state_match.group(2)
    if detail and detail.strip().lower() not in STATE_DETAILS:
        notices.append(
            RowProblem(
                number,
                STATE,
                state,
                (
                    f"{model_id}: unknown detail {detail.strip()!r} (known: High, Medium, Low, N/A): "
                    "kept as text; the chat-template cell decides the reasoning parameters"
                ),
            )
        )
    stated = dataclasses.replace(template, reasoning=state_match.group(1).lower() == "on")
    runner = effective_protocol(model_id, row[TEMPLATE])
    protocol = Template(runner.reasoning, runner.reasoning_params)
    if template.reasoning is not None and template.reasoning != stated.reasoning:
        notices.append(
            RowProblem(
                number,
                TEMPLATE,
                row[TEMPLATE].strip(),
                f"{model_id}: the cell turns reasoning {'on' if template.reasoning else 'off'} but "
                f"the reasoning state is {state!r}: run as AES's runner runs it "
                f"({_said(protocol)})",
            )
        )
    elif aes_reasoning == STATED:
        protocol = stated
    elif protocol != stated:
        notices.append(
            RowProblem(
                number,
                STATE,
                state,
                f"{model_id}: AES's runner runs this row with {_said(protocol)}; the row states "
                f"{_said(stated)} (aes_reasoning: stated runs that)",
            )
        )
    return protocol, notices


def _said(protocol: Template) -> str:
    """A protocol in words: ``reasoning on, {'enable_thinking': True}, prefix '/think '``."""
    words = [f"reasoning {'on' if protocol.reasoning else 'off'}"]
    words.append(f"parameters {protocol.params}" if protocol.params else "no parameters")
    if protocol.prompt_prefix:
        words.append(f"prompt prefix {protocol.prompt_prefix!r}")
    return ", ".join(words)


def read_model_list(path: str | Path, aes_reasoning: str = EFFECTIVE) -> ImportResult:
    """Every usable row of an AES model list as a model entry, every other one as problems.
    ``aes_reasoning``: ``effective`` runs each row as AES's runner does, ``stated`` as the row
    states its reasoning (docs/aes.md)."""
    if aes_reasoning not in AES_REASONING:
        raise ConfigError(
            f"aes_reasoning {aes_reasoning!r}: expected one of {', '.join(AES_REASONING)}"
        )
    path = Path(path)
    result = ImportResult({}, [])
    first_row: dict[str, int] = {}
    for number, row in _read_rows(path):
        outcome = _entry(number, row, aes_reasoning)
        result.notices += outcome.notices
        result.problems += outcome.problems
        entry = outcome.entry
        if entry is None:
            continue
        key = model_key(entry["id"], entry["reasoning_state"])
        if key_problem(key):
            result.problems.append(
                RowProblem(
                    number,
                    MODEL,
                    row[MODEL].strip(),
                    f"cannot name its outputs: {key_problem(key)}",
                )
            )
        elif key in first_row:
            result.problems.append(
                RowProblem(
                    number,
                    STATE,
                    entry["reasoning_state"],
                    f"duplicate of row {first_row[key]} (same model and reasoning state: "
                    f"key {key!r})",
                )
            )
        else:
            first_row[key] = number
            result.models[key] = entry
    return result


def models_document(result: ImportResult, source: str | Path) -> str:
    """A models.yaml document of the imported entries."""
    header = (
        f"# Imported from the AI Energy Score model list {source} by "
        f"`energybench import-aes`; keys are <org>--<name>--<reasoning state>.\n"
    )
    return header + yaml.safe_dump({"models": result.models}, sort_keys=False, allow_unicode=True)


def import_model_list(
    source: str | Path, output: str | Path, skip_invalid: bool, aes_reasoning: str = EFFECTIVE
) -> ImportResult:
    """Write the list's models to ``output`` (atomically). With problems, nothing is written
    unless ``skip_invalid``; the caller reports the problems and notices either way."""
    result = read_model_list(source, aes_reasoning)
    if result.problems and not skip_invalid:
        return result
    if not result.models:
        raise ModelListError(f"AES model list {source}: no usable row")
    write_atomic(output, models_document(result, source))
    return result


def models_from_list(
    source: str | Path, skip_invalid: bool, aes_reasoning: str = EFFECTIVE
) -> dict:
    """The models document of an AES list named in config.yaml (``models_csv``): an error
    naming every unusable row, unless ``skip_invalid`` (then they are printed and skipped);
    each notice printed."""
    result = read_model_list(source, aes_reasoning)
    if result.problems and not skip_invalid:
        raise ModelListError(
            f"AES model list {source}: {len(result.problems)} problem(s): "
            + "; ".join(map(str, result.problems))
            + ". Fix the rows, or set models_csv_skip_invalid: true to run the usable rows"
        )
    for notice in result.notices:
        print(f"energybench: AES model list {source}: {notice}", file=sys.stderr)
    for problem in result.problems:
        print(f"energybench: AES model list {source}: skipped {problem}", file=sys.stderr)
    if not result.models:
        raise ModelListError(f"AES model list {source}: no row this pipeline can run")
    return {"models": result.models}
