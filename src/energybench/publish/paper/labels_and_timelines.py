"""Every model's label and power timeline in one process, each drawn again only where what it
shows has changed.

One job draws them all (rule ``labels_and_timelines``): a job per model started a Python and
imported matplotlib and pandas for each file pair, which took longer than drawing it
(docs/PERFORMANCE.md, section 7). Snakemake reruns that one job when any report
changes, so the job itself keeps what a model-by-model workflow kept: a record, beside the
outputs, of what each file was drawn from (its fingerprint). A file is drawn again when its
fingerprint changed or it is missing, and left as it is otherwise:

- a label: the model's entry in the report collection, its row of the ratings (its stars
  change when another report moves its group's range) and the label code's digest;
- a power timeline: the model's entry, its run's ``power_timeline.csv`` and the timeline
  code's digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from energybench.run.files import json_text, write_atomic
from energybench.publish.paper.build import build_label, build_run_figure, read_ratings

log = logging.getLogger(__name__)

TIMELINE_CSV = "power_timeline.csv"  # a run's power samples, beside its report


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model: its label (SVG, PNG) and its power timeline (PNG, PDF)."""

    label: list[Path]
    timeline: list[Path]


class OutputsDoNotMatch(ValueError):
    """The outputs named for the job and the models of the collection differ."""


def draw_labels_and_timelines(
    collection, ratings_csv, outputs: dict[str, ModelFiles], record_path, code: dict[str, str]
) -> dict[str, list[str]]:
    """Draw the label and the power timeline of each model in ``collection`` (keyed by its
    run folder's name, as ``outputs`` is) whose fingerprint differs from the one in the
    record at ``record_path``, or whose files are missing; write the new record. ``code``:
    the digests of the ``label`` and the ``timeline`` code. Returns the models drawn, by
    kind ("label", "timeline")."""
    ratings = read_ratings(ratings_csv)
    rows = {row["model"]: row for row in json.loads(ratings.to_json(orient="records"))}
    entries = _entries(collection)
    if set(entries) != set(outputs):
        raise OutputsDoNotMatch(
            f"report collection {collection}: models without outputs "
            f"{sorted(set(entries) - set(outputs))}, outputs without a report "
            f"{sorted(set(outputs) - set(entries))}"
        )
    before = _read_record(record_path)
    record: dict[str, dict[str, str]] = {}
    drawn: dict[str, list[str]] = {"label": [], "timeline": []}
    for key, (report_path, text, model) in entries.items():
        files = outputs[key]
        timeline_path = Path(report_path).parent / TIMELINE_CSV
        prints = {
            "label": _fingerprint(code["label"], text, json.dumps(rows.get(model))),
            "timeline": _fingerprint(code["timeline"], text, _file_digest(timeline_path)),
        }
        for kind, paths in (("label", files.label), ("timeline", files.timeline)):
            if before.get(key, {}).get(kind) == prints[kind] and all(p.is_file() for p in paths):
                continue
            try:
                if kind == "label":
                    build_label(report_path, ratings, paths)
                else:
                    build_run_figure(report_path, timeline_path, paths)
            except Exception as exc:
                exc.add_note(f"while drawing the {kind} of model {key} ({report_path})")
                raise
            drawn[kind].append(key)
        record[key] = prints
    write_atomic(record_path, json_text({"fingerprints": record}))
    log.warning(
        "drew %d labels (%s) and %d power timelines (%s); %d models unchanged",
        len(drawn["label"]),
        ", ".join(drawn["label"]) or "none",
        len(drawn["timeline"]),
        ", ".join(drawn["timeline"]) or "none",
        sum(key not in drawn["label"] and key not in drawn["timeline"] for key in entries),
    )
    return drawn


def _entries(collection) -> dict[str, tuple[str, str, str | None]]:
    """Per run folder name: (the report's path, its entry's text in the collection, the
    report's model key or None for an unusable report)."""
    entries = {}
    with open(collection) as handle:
        for line in handle:
            entry = json.loads(line)
            model = (entry.get("report") or {}).get("model")
            entries[Path(entry["path"]).parent.name] = (entry["path"], line, model)
    return entries


def _read_record(path) -> dict[str, dict[str, str]]:
    """The fingerprints of the files drawn last time; none where there is no usable record
    (then every file is drawn)."""
    try:
        return json.loads(Path(path).read_text())["fingerprints"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "absent"


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0")
    return "sha256:" + digest.hexdigest()
