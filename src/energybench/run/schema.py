"""The package's JSON schemas (the model settings', the report's) and validation against them
with short messages that name each field and never repeat a secret."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import referencing

from energybench.run.errors import ConfigError


def package_schema(name: str) -> dict:
    return json.loads(resources.files("energybench.run.schemas").joinpath(name).read_text())


def model_setting_schema(setting: str) -> dict:
    """The model settings' schema of one setting, dotted (``<backend>.<field>``)."""
    node = package_schema("model_settings.schema.json")
    for part in setting.split("."):
        node = node["properties"][part]
    return node


@functools.cache
def _schema_resource(name: str) -> referencing.Resource:
    """A package schema as a `$ref` target, read once per process: the registry retrieves a
    reference each time it meets it (once per model of models.yaml; docs/PERFORMANCE.md)."""
    return referencing.Resource.from_contents(package_schema(name))


def _schema_registry() -> referencing.Registry:
    """Resolve `$ref`s to the package's schemas whatever relative path names them."""
    return referencing.Registry(retrieve=lambda uri: _schema_resource(Path(uri).name))


# Credentials written into a URL: user-info before the host (user:password@, token@), or a
# query parameter named like a key. Settings are stored, hashed, logged and published.
_URL_CREDENTIALS = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s@]*@|[?&#;](?:api[_-]?key|apikey|x-api-key|key|"
    r"(?:access|auth|id|refresh)?[_-]?token|auth|authorization|secret|client[_-]?secret|"
    r"password|passwd|pass|pwd|sig|signature|credential|credentials)=",
    re.IGNORECASE,
)
CREDENTIALS_IN_A_URL = (
    "credentials in a URL (user:password@ or a name@ before the host, or a key in its query "
    "string), which would be stored and published with the settings; give a URL without "
    "them, and a key through the environment (an endpoint's api_key_env setting names the "
    "variable holding it; the Hub reads HF_TOKEN)"
)


def credential_problems(document: Any, path: tuple = ()) -> list[tuple[list, str]]:
    """Each text in ``document`` that carries credentials in a URL, by its place (the value
    is never repeated)."""
    if isinstance(document, dict):
        return [
            problem
            for key, value in document.items()
            for problem in credential_problems(value, (*path, key))
        ]
    if isinstance(document, list):
        return [
            problem
            for index, value in enumerate(document)
            for problem in credential_problems(value, (*path, index))
        ]
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
        if any(path[: len(place)] == place for place in refused):
            continue
        if best.validator == "additionalProperties" and isinstance(best.instance, dict):
            known = sorted(best.schema.get("properties", {}))
            for extra in sorted(set(best.instance) - set(known)):
                problems.append(
                    (path + [extra], f"unknown field; known fields: {', '.join(known)}")
                )
            continue
        problems.append((path, readable_message(best)))
    return sorted(problems, key=lambda p: [str(x) for x in p[0]])


def _describe(option: dict) -> str:
    """What a schema (one option of a oneOf/anyOf) accepts, in words."""
    if "description" in option:
        return option["description"]
    if "enum" in option:
        return "one of " + ", ".join(
            json.dumps(v) if not isinstance(v, str) else v for v in option["enum"]
        )
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


def check_document(document: Any, schema: dict, where: str) -> None:
    """Validate a parsed config document, naming the field of every problem."""
    problems = schema_problems(document, schema)
    if problems:
        lines = [f"{'.'.join(map(str, p)) or '(top level)'}: {m}" for p, m in problems]
        raise ConfigError(f"{where} is invalid: " + "; ".join(lines))
