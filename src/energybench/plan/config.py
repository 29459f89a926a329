"""The configuration as the workflow reads it: config.yaml and models.yaml loaded and
checked, each model resolved into its run config, and the models selected.

The pipeline resolves each entry of ``config/models.yaml`` against the defaults of
``config/config.yaml`` into a *run config* (a plain JSON-able dict), validated once, when the
workflow is parsed. That dict reaches the job as a Snakemake param, so editing one model reruns
that model only, and the run only parses it into its typed settings
(energybench.run.settings.RunConfig).
"""

from __future__ import annotations

import collections.abc
import fnmatch
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from energybench.aes.identity import OUR_TASKS, model_name, reasoning_state
from energybench.job.keys import key_problem
from energybench.run.errors import ConfigError
from energybench.run.files import decode_text, json_text
from energybench.run.schema import package_schema, schema_problems
from energybench.run.settings import RunConfig, canonical

TINY_MODELS_DIR = "resources/models"


# --- YAML with duplicate-key detection ------------------------------------------------------


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A SafeLoader that rejects duplicate mapping keys instead of keeping the last one
    (libyaml's parser where PyYAML has it, which a large models.yaml needs: docs/PERFORMANCE.md,
    section 8)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults`: the mapping's own keys override the merged ones
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, collections.abc.Hashable):
            raise ConfigError(
                f"a key at line {key_node.start_mark.line + 1} is a "
                f"{type(key).__name__}; keys must be plain text"
            )
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


def _yaml_error_message(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = " ".join(
        filter(None, [getattr(exc, "context", None), getattr(exc, "problem", None)])
    ) or str(exc)
    return (
        f"{where}: not valid YAML: {problem} (mixed tabs and spaces, an unclosed bracket "
        "or quote, or a missing space after ':' are the usual causes)"
    )


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
        return package_schema(Path(node["$ref"]).name) if "$ref" in node else node

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


def resolve_runtimes(run_configs: dict[str, dict], resolve) -> dict[str, dict]:
    """The run configs with each runtime resolved once for all of them by ``resolve``
    (energybench.job.isolation.resolve_runtime: ``auto`` is docker where a daemon answers, else
    process), so the workflow plans, and each job runs, the same runtime."""
    resolved = {name: resolve(name) for name in {cfg["runtime"] for cfg in run_configs.values()}}
    return {key: {**cfg, "runtime": resolved[cfg["runtime"]]} for key, cfg in run_configs.items()}


def planned_settings(run_config: dict) -> dict:
    """The settings a model's job runs, as the typed config gives them back (unset optional
    settings left out), in canonical form: what Snakemake compares to rerun the job, what the
    job reads, and what its report records."""
    return RunConfig.from_dict(run_config).to_dict()


def settings_text(settings: dict) -> str:
    """Canonical settings as one line of strict JSON: the benchmark rule's param."""
    return json_text(canonical(settings), indent=None)


SELECT_FIELDS = {
    "model": "model",
    "class": "class",
    "task": "task",
    "backend": "backend",
    "reasoning": "reasoning",
    "priority": "priority",
}
# As AI Energy Score's batch runner filters: a case-insensitive substring of the text.
SELECT_SUBSTRING_FIELDS = ("model_name", "reasoning_state")


def _contains(text: str, wanted: Any) -> bool:
    return any(str(o).lower() in text.lower() for o in _options(wanted))


def _in_our_terms(field: str, wanted: Any) -> Any:
    """A ``select`` value as our settings spell it: a class in upper case, AES's task names
    (``text_gen``) as ours."""
    if field == "class":
        return [str(o).upper() for o in _options(wanted)]
    if field == "task":
        return [OUR_TASKS.get(o, o) for o in _options(wanted)]
    return wanted


def _selected(cfg: dict, select: dict) -> bool:
    texts = {"model_name": model_name(cfg, cfg["model"]), "reasoning_state": reasoning_state(cfg)}
    return all(
        _contains(texts[field], wanted)
        if field in SELECT_SUBSTRING_FIELDS
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
