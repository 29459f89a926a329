"""The JSON schemas that users and Snakemake's ``validate`` read, generated from the typed
models that validate the same documents: the report (energybench.run.report). The files
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


SCHEMAS = {"report.schema.json": report_schema}


def schema_text(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale() -> list[str]:
    """The checked-in schema files that differ from what the models generate."""
    return [name for name, schema in SCHEMAS.items()
            if not (FOLDER / name).is_file()
            or (FOLDER / name).read_text() != schema_text(schema())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a checked-in schema is stale")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(f"{FOLDER / name} differs from the models: run python -m "
                  "energybench.run.json_schemas", file=sys.stderr)
        return 1 if names else 0
    for name, schema in SCHEMAS.items():
        (FOLDER / name).write_text(schema_text(schema()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
