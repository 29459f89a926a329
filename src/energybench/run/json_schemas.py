"""The JSON schemas that users and Snakemake's ``validate`` read, generated from the typed
models that declare the same documents: the report (energybench.run.report), a model's
settings and the measurement settings (energybench.run.model_settings). The files
under ``schemas/`` are this module's output, checked in; a test fails when they differ from
the models. After changing a model, regenerate them:

    python -m energybench.run.json_schemas          # write schemas/*.schema.json
    python -m energybench.run.json_schemas --check  # exit 1 naming each file that is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FOLDER = Path(__file__).parent / "schemas"


def report_schema() -> dict:
    """The schema of benchmark_report.json (docs/report.md defines every field)."""
    from energybench.run.report import Report

    return {"$schema": DRAFT, "$id": "report.schema.json", **Report.model_json_schema()}


def plain_schema(schema: dict) -> dict:
    """A pydantic-generated schema in the form the settings' validation reads (and its
    messages name; energybench.run.schema): the model's definitions written in place of
    their ``$ref``, a type or null as one type list, no titles and no defaults (Snakemake's
    ``validate`` would write a default into the settings it checks)."""
    definitions = schema.pop("$defs", {})

    def plain(node):
        if isinstance(node, list):
            return [plain(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            node = {
                **definitions[node["$ref"].rpartition("/")[2]],
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        node = {
            key: (
                plain_properties(value)
                if key == "properties"
                else " ".join(value.split())
                if key == "description"
                else plain(value)
            )
            for key, value in node.items()
            if key not in ("title", "default")
        }
        if node.get("type") == "string" and "const" in node:  # a Literal of one value
            node = {"enum": [node.pop("const")], **node}  # its error then lists the values
        if node.get("type") == "string" and "enum" in node:
            del node["type"]  # the values say it: a second error for a non-string adds nothing
        return one_type_list(node)

    def plain_properties(properties: dict) -> dict:
        return {name: plain(value) for name, value in properties.items()}

    return plain(schema)


# Keywords that hold whatever the instance's type: options with them are not merged.
_ANY_TYPE_KEYWORDS = {"const", "enum", "not", "anyOf", "oneOf", "allOf", "if", "$ref"}


def one_type_list(node: dict) -> dict:
    """``anyOf`` of options that differ by type, at most one with limits of its own (which
    then hold only for its type), as one schema with a list of types: ``{"type":
    ["integer", "null"], "minimum": 1}``, whose errors name the limit, not every option."""
    options = node.get("anyOf")
    if not options or any(
        not isinstance(option.get("type"), str) or _ANY_TYPE_KEYWORDS & set(option)
        for option in options
    ):
        return node
    limited = [option for option in options if set(option) - {"type", "description"}]
    types = [option["type"] for option in options]
    if len(limited) > 1 or len(set(types)) < len(types):
        return node
    merged = {
        "type": types,
        **{k: v for option in limited for k, v in option.items() if k != "type"},
    }
    return {**merged, **{k: v for k, v in node.items() if k != "anyOf"}}


def model_settings_schema() -> dict:
    """The schema of a model's settings: an entry of models.yaml, config.yaml's ``defaults``
    and a resolved run config. An entry may leave out any field: which a resolved run config
    must have, the run config checks (energybench.run.settings.RunConfig)."""
    from energybench.run.model_settings import ModelSettings

    schema = plain_schema(ModelSettings.model_json_schema())
    del schema["required"]
    return {"$schema": DRAFT, "$id": "model_settings.schema.json", **schema}


def measurement_schema() -> dict:
    """The schema of config.yaml's ``measurement``."""
    from energybench.run.model_settings import Measurement

    return {
        "$schema": DRAFT,
        "$id": "measurement.schema.json",
        **plain_schema(Measurement.model_json_schema()),
    }


SCHEMAS = {
    "report.schema.json": report_schema,
    "model_settings.schema.json": model_settings_schema,
    "measurement.schema.json": measurement_schema,
}


def schema_text(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale() -> list[str]:
    """The checked-in schema files that differ from what the models generate."""
    return [
        name
        for name, schema in SCHEMAS.items()
        if not (FOLDER / name).is_file() or (FOLDER / name).read_text() != schema_text(schema())
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a checked-in schema is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(
                f"{FOLDER / name} differs from the models: run python -m "
                "energybench.run.json_schemas",
                file=sys.stderr,
            )
        return 1 if names else 0
    for name, schema in SCHEMAS.items():
        (FOLDER / name).write_text(schema_text(schema()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
