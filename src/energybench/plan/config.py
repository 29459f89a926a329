"""Run configuration: the model list, its validation, and the typed config of one run.

The pipeline resolves each entry of ``config/models.yaml`` against the defaults of
``config/config.yaml`` into a *run config* (a plain JSON-able dict), validated once, when the
workflow is parsed. That dict reaches the job as a Snakemake param, so editing one model reruns
that model only, and the run only parses it into a :class:`RunConfig` (a run config written by
hand, or changed by Hydra-style overrides on the command line, is checked first).
"""

from __future__ import annotations

import codecs
import collections.abc
import dataclasses
import fnmatch
import functools
import hashlib
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import yaml

from energybench.run.files import json_text
from energybench.plan.keys import key_problem

TINY_MODELS_DIR = "resources/models"


class ConfigError(Exception):
    """A user error in configuration, reported as one paragraph without a traceback."""


# --- YAML with duplicate-key detection ------------------------------------------------------


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A SafeLoader that rejects duplicate mapping keys instead of keeping the last one
    (libyaml's parser where PyYAML has it: 6x faster on a 1,000-model models.yaml)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults`: the mapping's own keys override the merged ones
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, collections.abc.Hashable):
            raise ConfigError(f"a key at line {key_node.start_mark.line + 1} is a "
                              f"{type(key).__name__}; keys must be plain text")
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first defined at line {seen[key]}); each key may appear once"
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def decode_text(data: bytes, path: str | Path) -> str:
    """A file's bytes as text: UTF-8, with or without a byte-order mark; anything else (UTF-16
    as PowerShell writes it, Latin-1, a binary file) is refused naming the file."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
            b"\x00" in data[:4096] and data[:4096].count(b"\x00") * 4 >= len(data[:4096])):
        raise ConfigError(f"{path} is UTF-16 text (as PowerShell's `>` writes it), not UTF-8; "
                          "save it as UTF-8 (e.g. `Out-File -Encoding utf8`, or your "
                          "editor's encoding setting)")
    if b"\x00" in data:
        raise ConfigError(f"{path} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line "
                          f"{line} (Latin-1 or another legacy encoding?); save the file as "
                          "UTF-8") from None


def _yaml_error_message(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = " ".join(filter(None, [getattr(exc, "context", None),
                                     getattr(exc, "problem", None)])) or str(exc)
    return (f"{where}: not valid YAML: {problem} (mixed tabs and spaces, an unclosed bracket "
            "or quote, or a missing space after ':' are the usual causes)")


def load_yaml(path: str | Path) -> Any:
    """Load a YAML file, failing with a clear message naming the file (and line) on a missing
    file, text that is not UTF-8, invalid YAML or duplicate keys."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.load(decode_text(data, path), Loader=_UniqueKeyLoader)
    except ConfigError as exc:
        raise ConfigError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_error_message(path, exc)) from None


def exit_on_unreadable_yaml(path: str | Path) -> None:
    """Stop the workflow with load_yaml's one-paragraph message, before Snakemake reads it."""
    try:
        load_yaml(path)
    except ConfigError as exc:
        sys.exit(f"energybench configuration error: {exc}")


# --- schema validation with short messages --------------------------------------------------


def _package_schema(name: str) -> dict:
    return json.loads(resources.files("energybench.run.schemas").joinpath(name).read_text())


def model_setting_schema(setting: str) -> dict:
    """The model settings' schema of one setting, dotted (``<backend>.<field>``)."""
    node = _package_schema("model_settings.schema.json")
    for part in setting.split("."):
        node = node["properties"][part]
    return node


@functools.cache
def _schema_resource(name: str) -> referencing.Resource:
    """A package schema as a `$ref` target, read once per process: the registry retrieves a
    reference each time it meets it (once per model of models.yaml; docs/PERFORMANCE.md)."""
    return referencing.Resource.from_contents(_package_schema(name))


def _schema_registry() -> referencing.Registry:
    """Resolve `$ref`s to the package's schemas whatever relative path names them."""
    return referencing.Registry(retrieve=lambda uri: _schema_resource(Path(uri).name))


# Credentials written into a URL: user-info before the host (user:password@, token@), or a
# query parameter named like a key. Settings are stored, hashed, logged and published.
_URL_CREDENTIALS = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s@]*@|[?&#;](?:api[_-]?key|apikey|x-api-key|key|"
    r"(?:access|auth|id|refresh)?[_-]?token|auth|authorization|secret|client[_-]?secret|"
    r"password|passwd|pass|pwd|sig|signature|credential|credentials)=",
    re.IGNORECASE)
CREDENTIALS_IN_A_URL = (
    "credentials in a URL (user:password@ or a name@ before the host, or a key in its query "
    "string), which would be stored and published with the settings; give a URL without "
    "them, and a key through the environment (an endpoint's api_key_env setting names the "
    "variable holding it; the Hub reads HF_TOKEN)")


def credential_problems(document: Any, path: tuple = ()) -> list[tuple[list, str]]:
    """Each text in ``document`` that carries credentials in a URL, by its place (the value
    is never repeated)."""
    if isinstance(document, dict):
        return [problem for key, value in document.items()
                for problem in credential_problems(value, (*path, key))]
    if isinstance(document, list):
        return [problem for index, value in enumerate(document)
                for problem in credential_problems(value, (*path, index))]
    if isinstance(document, str) and _URL_CREDENTIALS.search(document):
        return [(list(path), f"not allowed: {CREDENTIALS_IN_A_URL}")]
    return []


def schema_problems(document: Any, schema: dict) -> list[tuple[list, str]]:
    """All violations of ``schema`` as (path within the document, message), sorted by path;
    first of all, credentials in a URL anywhere (a field with them has no other problem
    reported, so no message can repeat them)."""
    validator = jsonschema.Draft202012Validator(schema, registry=_schema_registry())
    problems = credential_problems(document)
    refused = [path for path, _ in problems]
    for error in validator.iter_errors(document):
        # anyOf/allOf wrap the useful error: report the most specific one.
        best = jsonschema.exceptions.best_match([error])
        path = list(best.absolute_path)
        if any(path[:len(place)] == place for place in refused):
            continue
        if best.validator == "additionalProperties" and isinstance(best.instance, dict):
            known = sorted(best.schema.get("properties", {}))
            for extra in sorted(set(best.instance) - set(known)):
                problems.append((path + [extra], f"unknown field; known fields: {', '.join(known)}"))
            continue
        problems.append((path, readable_message(best)))
    return sorted(problems, key=lambda p: [str(x) for x in p[0]])


def _describe(option: dict) -> str:
    """What a schema (one option of a oneOf/anyOf) accepts, in words."""
    if "description" in option:
        return option["description"]
    if "enum" in option:
        return "one of " + ", ".join(json.dumps(v) if not isinstance(v, str) else v
                                     for v in option["enum"])
    if option.get("type") == "array" and "items" in option:
        return f"a list of ({_describe(option['items'])})"
    if "type" in option:
        types = option["type"] if isinstance(option["type"], list) else [option["type"]]
        return " or ".join(f"a {t}" for t in types)
    return json.dumps(option)


def readable_message(error: jsonschema.ValidationError) -> str:
    """The schema's complaint with the allowed values or an example instead of a regex or
    "not valid under any of the given schemas". A field marked `x-never-echo` (where a
    secret may be pasted by mistake) never has its value repeated, nor has a whole entry
    (which may hold such a field)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if schema.get("x-never-echo"):
        shown = "the value given"
    elif isinstance(error.instance, (dict, list)):
        shown = "this entry" if isinstance(error.instance, dict) else "this list"
    else:
        shown = repr(error.instance)
    if error.validator == "pattern":
        example = (schema.get("examples") or [None])[0]
        return f"{shown} is not of the expected form" + (f", e.g. {example}" if example else "")
    if error.validator in ("oneOf", "anyOf"):
        options = " or ".join(_describe(option) for option in error.validator_value)
        if error.validator == "oneOf" and not error.context:  # valid under several
            return f"give exactly one of: {options}"
        return f"{shown} is not valid here: expected {options}"
    if error.validator == "not" and "description" in error.validator_value:
        return f"not allowed: {error.validator_value['description']}"
    return error.message.replace(repr(error.instance), shown)


def check_model_keys(document: Any, where: str) -> None:
    """Reject model keys that are not safe file names, before anything else reads them."""
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        return  # the schema names what is missing
    problems = [f"model {p}" for p in map(key_problem, models) if p]
    if problems:
        raise ConfigError(f"{where} is invalid: " + "; ".join(problems))


def check_models_document(document: Any, schema: dict, where: str) -> None:
    """Validate a parsed models.yaml, naming the model key and field of every problem."""
    check_model_keys(document, where)
    problems = schema_problems(document, schema)
    if not problems:
        return
    lines = []
    for path, message in problems:
        if len(path) >= 2 and path[0] == "models":
            field = ".".join(str(p) for p in path[2:]) or "(entry)"
            lines.append(f"model {path[1]!r}, field {field!r}: {message}")
        else:
            lines.append(f"{'.'.join(map(str, path)) or '(top level)'}: {message}")
    raise ConfigError(f"{where} is invalid: " + "; ".join(lines))


def check_document(document: Any, schema: dict, where: str) -> None:
    """Validate a parsed config document, naming the field of every problem."""
    problems = schema_problems(document, schema)
    if problems:
        lines = [f"{'.'.join(map(str, p)) or '(top level)'}: {m}" for p, m in problems]
        raise ConfigError(f"{where} is invalid: " + "; ".join(lines))


# --- the model table -------------------------------------------------------------------------


def _accepts_string(schema: dict, value: str) -> bool:
    """Whether ``schema`` takes ``value`` as the string it is (so it is not parsed as YAML):
    a string type without an enum, or an enum that lists it. ``preset=null`` on the command
    line is then the null the preset's enum lists, not a preset named "null"."""
    options = schema.get("oneOf") or schema.get("anyOf") or [schema]
    for option in options:
        types = option.get("type", [])
        types = types if isinstance(types, list) else [types]
        if "enum" in option:
            if value in option["enum"]:
                return True
        elif "string" in types or (not types and "$ref" not in option and "const" not in option):
            return True
        elif option.get("const") == value:
            return True
    return False


def _list_items_schema(schema: dict) -> dict | None:
    """The schema of a list's items: the array's own, or that of the array among its options
    (``oneOf: [{type: integer}, {type: array, items: ...}]``)."""
    options = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
    return next((option["items"] for option in options if "items" in option), None)


def coerce_command_line_values(document: dict, schema: dict) -> dict:
    """Parse strings that stand for numbers, booleans or null, where the schema wants those.

    Snakemake hands nested ``--config`` values over as strings (``'select={"reasoning":
    false}'`` gives ``"false"``); values read from YAML files are already typed.
    """
    def resolve(node: dict) -> dict:
        return _package_schema(Path(node["$ref"]).name) if "$ref" in node else node

    def walk(value, node):
        node = resolve(node)
        if isinstance(value, dict):
            properties = node.get("properties", {})
            return {k: walk(v, properties[k]) if k in properties else v for k, v in value.items()}
        if isinstance(value, list):
            items = _list_items_schema(node)
            return [walk(v, items) for v in value] if items is not None else value
        if isinstance(value, str) and not _accepts_string(node, value):
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                return value
        return value

    return walk(document, schema)


def resolve_model(key: str, entry: dict, defaults: dict, measurement: dict) -> dict:
    """The complete run config of one model: defaults, then the entry, plus measurement."""
    settings = {**defaults, **entry}
    settings["reasoning_params"] = {
        **defaults.get("reasoning_params", {}),
        **entry.get("reasoning_params", {}),
    }
    if "tiny" in settings:
        settings["id"] = f"{TINY_MODELS_DIR}/{key}"
    return {"model": key, **settings, "measurement": dict(measurement)}


def _options(wanted: Any) -> list:
    return wanted if isinstance(wanted, list) else [wanted]


def _matches(value: Any, wanted: Any) -> bool:
    return any(
        fnmatch.fnmatchcase(str(value), str(o)) if isinstance(o, str) else value == o
        for o in _options(wanted)
    )


DATASET_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def is_local_dataset(dataset: str) -> bool:
    """A dataset is a local file when it has a known file suffix or names an existing path."""
    return Path(dataset).suffix.lower() in DATASET_SUFFIXES or Path(dataset).exists()


def is_local_model(model_id: str) -> bool:
    """Local directories are existing paths or explicit ones; others are Hugging Face ids."""
    return (Path(model_id).exists() or model_id.startswith(("/", "./", "../", "~"))
            or model_id.count("/") > 1)


def local_inputs(run_config: dict) -> dict[str, str]:
    """The local files and directories one run reads, by role (for Snakemake inputs)."""
    inputs = {}
    if "tiny" in run_config or is_local_model(run_config["id"]):
        inputs["model_dir"] = run_config["id"]
    if is_local_dataset(run_config["dataset"]):
        inputs["dataset"] = run_config["dataset"]
    return inputs


def _with_planned_gpus(cfg: dict, machine_has_gpus: bool) -> dict:
    """``cfg`` with ``gpus: auto`` counted as it will be planned on a machine that has GPUs
    or not: what the checks of contradictions compare."""
    from energybench.run.backends import planned_gpus  # the backends import this module

    return {**cfg, "gpus": planned_gpus(cfg, machine_has_gpus)}


def _contradictions(cfg: dict) -> list[str]:
    """Settings that contradict each other (``cfg`` with its GPUs planned)."""
    from energybench.run.backends import backend_class  # the backends import this module
    from energybench.run.tasks import task_problems

    problems = []
    if cfg["device"] == "cuda" and cfg["gpus"] == 0:
        problems.append("device 'cuda' needs gpus >= 1 (the job's GPUs; `gpus: auto` takes "
                        "none where the machine that runs the jobs has no GPU: node_gpus)")
    if cfg["device"] == "cpu" and cfg["gpus"] > 0:
        problems.append(f"device 'cpu' with gpus: {cfg['gpus']}: the job would hold GPUs "
                        "the run never uses (leave gpus at auto, or set it to 0)")
    return problems + backend_class(cfg["backend"]).config_problems(cfg) + task_problems(cfg)


def resolve_runtimes(run_configs: dict[str, dict], resolve) -> dict[str, dict]:
    """The run configs with each runtime resolved once for all of them by ``resolve``
    (energybench.job.isolation.resolve_runtime: ``auto`` is docker where a daemon answers, else
    process), so the workflow plans, and each job runs, the same runtime."""
    resolved = {name: resolve(name) for name in {cfg["runtime"] for cfg in run_configs.values()}}
    return {key: {**cfg, "runtime": resolved[cfg["runtime"]]} for key, cfg in run_configs.items()}


def canonical(value: Any) -> Any:
    """``value`` in the one form that equal settings share: mappings with sorted keys, and
    whole-number floats as integers (``5.0`` given on the command line is the ``5`` of a YAML
    file). Restating a default, reordering keys or writing a value in another file then
    changes nothing that is compared or hashed."""
    if isinstance(value, collections.abc.Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fields(instance, skip: tuple[str, ...] = ()) -> dict:
    """A dataclass instance's fields as a shallow dict."""
    return {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)
            if f.name not in skip}


def planned_settings(run_config: dict) -> dict:
    """The settings a model's job runs, as the typed config gives them back (unset optional
    settings left out), in canonical form: what Snakemake compares to rerun the job, what the
    job reads, and what its report records."""
    return RunConfig.from_dict(run_config).to_dict()


def settings_text(settings: dict) -> str:
    """Canonical settings as one line of strict JSON: the benchmark rule's param."""
    return json_text(canonical(settings), indent=None)


def check_run_configs(run_configs: dict[str, dict], where: str | None = None,
                      machine_has_gpus: bool = False) -> None:
    """Fail before any run on incomplete settings, settings that contradict each other, or
    local files that do not exist. The settings themselves were checked against the schema
    with the files they come from (check_models_document, check_document)."""
    from energybench.plan.consistency import consistency_problems  # it builds on this module

    problems = []
    for key, cfg in run_configs.items():
        try:
            RunConfig.from_dict(cfg)
        except ConfigError as exc:
            problems.append(f"model {key!r}: {exc}")
            continue
        planned = _with_planned_gpus(cfg, machine_has_gpus)
        problems += [f"model {key!r}: {problem}"
                     for problem in _contradictions(planned) + consistency_problems(planned)]
        for role, path in local_inputs(cfg).items():
            built_by_workflow = role == "model_dir" and "tiny" in cfg
            if not built_by_workflow and not Path(path).expanduser().exists():
                what = "model directory" if role == "model_dir" else "dataset file"
                problems.append(f"model {key!r}: {what} {path!r} does not exist "
                                f"(in {Path.cwd()})")
    if problems:
        raise ConfigError((f"{where}: " if where else "") + "; ".join(problems))


SELECT_FIELDS = {"model": "model", "class": "class", "task": "task", "backend": "backend",
                 "reasoning": "reasoning", "priority": "priority"}
# As AI Energy Score's batch runner filters: a case-insensitive substring of the text.
SELECT_SUBSTRING_FIELDS = ("model_name", "reasoning_state")


def _contains(text: str, wanted: Any) -> bool:
    return any(str(o).lower() in text.lower() for o in _options(wanted))


def _in_our_terms(field: str, wanted: Any) -> Any:
    """A ``select`` value as our settings spell it: a class in upper case, AES's task names
    (``text_gen``) as ours."""
    from energybench.aes.identity import OUR_TASKS

    if field == "class":
        return [str(o).upper() for o in _options(wanted)]
    if field == "task":
        return [OUR_TASKS.get(o, o) for o in _options(wanted)]
    return wanted


def _selected(cfg: dict, select: dict) -> bool:
    from energybench.aes.identity import model_name, reasoning_state

    texts = {"model_name": model_name(cfg, cfg["model"]), "reasoning_state": reasoning_state(cfg)}
    return all(
        _contains(texts[field], wanted) if field in SELECT_SUBSTRING_FIELDS
        else _matches(cfg.get(SELECT_FIELDS[field]), _in_our_terms(field, wanted))
        for field, wanted in select.items()
    )


def select_models(run_configs: dict[str, dict], select: dict) -> list[str]:
    """Keys of the models matching every field of ``select``: globs for keys and other
    strings, case-insensitive substrings for ``model_name`` (the Hugging Face id) and
    ``reasoning_state`` (the model list's text)."""
    chosen = [key for key, cfg in run_configs.items() if _selected(cfg, select)]
    if not chosen:
        raise ConfigError(
            f"select={json.dumps(select)} matches none of the models "
            f"({', '.join(run_configs)}); check the field values"
        )
    return chosen


# --- the typed config of one run ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Measurement:
    idle_seconds: float
    sample_hz: float
    carbon_intensity_g_per_kwh: float
    cooldown_timeout_s: float


@dataclasses.dataclass(frozen=True)
class Isolation:
    """How the job layer isolates the run (energybench.job.model_job, energybench.job.isolation): the run
    itself reads none of it. In the run config's dict these are top-level fields."""

    runtime: str
    """Resolved once, when the workflow is parsed (``auto`` only in a hand-written config)."""
    gpus: int | str
    """A count, or ``auto`` (energybench.run.backends.planned_gpus): the job takes the count
    Snakemake planned, and records the devices it held."""
    image: str | None = None
    cpus: float | None = None
    memory: str | None = None
    timeout_s: float | None = None

    @classmethod
    def from_run_config(cls, run_config: collections.abc.Mapping) -> Isolation:
        return cls(**{f.name: run_config.get(f.name) for f in dataclasses.fields(cls)})


ISOLATION_FIELDS = tuple(f.name for f in dataclasses.fields(Isolation))

# Settings left out of the resolved config while unset, so adding them changed no digest.
UNSET_WHEN_EMPTY = ("temperature", "prompt_prefix", "reasoning_state", "priority", "protocol",
                    "aes_reasoning", "prompt_overflow", "quantization")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    model: str
    id: str
    backend: str
    task: str
    model_class: str
    reasoning: bool
    reasoning_params: dict
    dtype: str
    device: str
    batch_size: int
    max_new_tokens: int
    num_prompts: int
    warmup_prompts: int
    dataset: str
    dataset_column: str
    dataset_split: str
    seed: int
    measurement: Measurement
    isolation: Isolation
    min_new_tokens: int | None = None
    trials: int | None = None
    tiny: dict | None = None
    backend_block: dict | None = None
    """The backend's own block of settings (the run config's field named after the backend)
    as written: what `to_dict` gives back, so the digest and the report's config are those of
    the settings as the workflow resolved them, whatever the defaults."""
    task_block: dict | None = None
    """The task's own block of settings (the run config's field named after the task, e.g.
    ``image_generation``) as written; the task's implementation reads it."""
    backend_settings: Any = dataclasses.field(default=None, compare=False)
    """That block parsed once, with its defaults, into the backend's settings type
    (`Backend.parse_settings`); None for a backend without one."""
    temperature: float | None = None
    prompt_prefix: str = ""
    prompt_overflow: str | None = None
    """A prompt longer than the context allows: None or ``refuse`` fails the run, ``truncate``
    keeps its start (energybench.run.backends.pytorch)."""
    quantization: dict | None = None
    """Weight quantization as the model loads (``method``, ``weights``;
    energybench.run.quantization); None: the checkpoint's weights as they are."""
    reasoning_state: str | None = None
    priority: int | None = None
    protocol: str | None = None
    aes_reasoning: str | None = None
    gpus_held: int | None = dataclasses.field(default=None, compare=False)
    """Not a setting: how many GPUs the run's job holds (its launch block), which
    ``device: auto`` goes by; None for a run started by hand."""

    def trials_on(self, device: str) -> int:
        """Trials to run: as configured, else 3 on a GPU and 1 on the CPU."""
        if self.trials is not None:
            return self.trials
        return 3 if device == "cuda" else 1

    @property
    def runs_each_prompt_once(self) -> bool:
        """AI Energy Score's protocol measures each prompt once (its figures are over its ten
        prompts); ours repeats a short generation until its window is long enough for the
        meters."""
        return self.protocol == "aes"

    @property
    def effective_min_new_tokens(self) -> int:
        """Fixed output length unless reasoning is on (then the model decides when to stop)."""
        if self.min_new_tokens is not None:
            return self.min_new_tokens
        return 0 if self.reasoning else self.max_new_tokens

    @property
    def reasoning_note(self) -> str | None:
        """Why the run's reasoning differs from the model list's reasoning state, if it does
        (AI Energy Score's runner decides reasoning otherwise than some rows state it)."""
        if not self.reasoning_state or self.aes_reasoning is None:
            return None
        stated = self.reasoning_state.strip().lower().startswith("on")
        if stated == self.reasoning:
            return None
        return (f"the model list states reasoning {self.reasoning_state!r}; this run has "
                f"reasoning {'on' if self.reasoning else 'off'}, as AI Energy Score's runner "
                f"runs the row (aes_reasoning: {self.aes_reasoning}; docs/aes.md)")

    @classmethod
    def validated(cls, data: dict) -> RunConfig:
        """Check a run config that did not come from the workflow (written by hand, or
        changed by overrides) as the workflow checks its own, then parse it."""
        settings = {k: v for k, v in data.items() if k not in ("model", "measurement")}
        check_document(settings, _package_schema("model_settings.schema.json"), "run config")
        cfg = cls.from_dict(data)
        from energybench.job.gpus import discover_devices

        problems = _contradictions(_with_planned_gpus(data, bool(discover_devices().devices)))
        if problems:
            raise ConfigError("run config: " + "; ".join(problems))
        return cfg

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Parse a run config that was validated when the workflow was parsed; only fields
        that are missing altogether are an error here."""
        settings = dict(data)
        model = settings.pop("model", None)
        measurement = settings.pop("measurement", None)
        settings["model_class"] = settings.pop("class", None)
        optional = {"model", "measurement", "isolation", "min_new_tokens", "tiny", "trials",
                    "backend_block", "task_block", "backend_settings", "gpus_held",
                    *UNSET_WHEN_EMPTY}
        required = [f.name for f in dataclasses.fields(cls) if f.name not in optional]
        required += [f.name for f in dataclasses.fields(Isolation)
                     if f.default is dataclasses.MISSING]
        missing = sorted(name for name in required if settings.get(name) is None)
        if model is None or measurement is None or missing:
            absent = missing + [n for n, v in (("model", model), ("measurement", measurement))
                                if v is None]
            raise ConfigError(f"run config lacks required fields: {', '.join(absent)}")
        try:
            measurement = Measurement(**measurement)
        except TypeError as exc:
            raise ConfigError(f"run config field 'measurement': {exc}") from None
        from energybench.run.backends import backend_class  # the backends import this module

        try:
            backend = backend_class(settings["backend"])
        except ValueError as exc:
            raise ConfigError(f"run config field 'backend': {exc}") from None
        isolation = Isolation.from_run_config(settings)
        for name in ISOLATION_FIELDS:
            settings.pop(name, None)
        return cls(model=model, measurement=measurement, isolation=isolation,
                   backend_block=settings.pop(settings["backend"], None),
                   task_block=settings.pop(settings["task"], None),
                   backend_settings=backend.parse_settings(data), **settings)

    def to_dict(self) -> dict:
        """The run config as a plain dict in canonical form (energybench.plan.config.canonical)."""
        # Field by field, not dataclasses.asdict: canonical() copies the values anyway, and
        # asdict's deep copy was a fifth of planning's own time at 1,000 models.
        data = _fields(self, skip=("backend_settings", "gpus_held"))
        data["measurement"] = _fields(self.measurement)
        data["isolation"] = _fields(self.isolation)
        data["class"] = data.pop("model_class")
        data[self.backend] = data.pop("backend_block")
        data[self.task] = data.pop("task_block")
        data.update(data.pop("isolation"))
        for optional in ("tiny", "image", "cpus", "memory", self.backend, self.task, "timeout_s",
                         *UNSET_WHEN_EMPTY):
            if data[optional] in (None, ""):
                del data[optional]
        return canonical(data)

    def digest(self) -> str:
        """A stable hash of the resolved config, recorded in the report's provenance."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --- Hydra-style overrides, as the AI Energy Score runner passes them -------------------------

OVERRIDE_ALIASES = {
    "backend.model": "id",
    "backend.device": "device",
    "backend.dtype": "dtype",
    "scenario.dataset_name": "dataset",
    "scenario.text_column_name": "dataset_column",
    "scenario.dataset_split": "dataset_split",
    "scenario.reasoning": "reasoning",
    "scenario.num_samples": "num_prompts",
    "scenario.generate_kwargs.max_new_tokens": "max_new_tokens",
    "scenario.generate_kwargs.min_new_tokens": "min_new_tokens",
    "scenario.input_shapes.batch_size": "batch_size",
}
REASONING_PARAM_PREFIX = "scenario.reasoning_params."


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    """Apply ``key=value`` overrides (values parsed as YAML, as Hydra does) to a run config."""
    result = json.loads(json.dumps(config))
    fields = set(_package_schema("model_settings.schema.json")["properties"])
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {override!r} is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if key.startswith(REASONING_PARAM_PREFIX):
            result.setdefault("reasoning_params", {})[key[len(REASONING_PARAM_PREFIX):]] = value
        elif key in OVERRIDE_ALIASES:
            result[OVERRIDE_ALIASES[key]] = value
        elif key in fields:
            result[key] = value
        else:
            known = sorted([*OVERRIDE_ALIASES, REASONING_PARAM_PREFIX + "<name>", *fields])
            raise ConfigError(f"unknown override key {key!r}; known keys: {', '.join(known)}")
    return result
