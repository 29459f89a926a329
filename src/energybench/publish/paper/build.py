"""What each paper rule does, as one call per rule (scripts/paper_*.py stay one line), and
one model's label and power timeline (energybench.publish.paper.labels_and_timelines draws them all)."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pandas as pd

from energybench.aes.master_results import write_master_results
from energybench.publish.paper import labels, ratings, tables
from energybench.run.files import read_csv_values
from energybench.publish.paper.stored import (
    iter_stored_reports,
    read_stored_report,
    read_stored_reports,
    shown_folder,
)

log = logging.getLogger(__name__)


def build_tables(collection, ratings_csv, outputs: dict) -> None:
    """models.csv (AI Energy Score's columns first), then the trial, phase, latency and check
    tables and the LaTeX per-model table (with the ratings' stars), from the report
    collection (energybench.publish.paper.stored), read one report at a time."""
    # unreadable reports are logged and left out
    tables.write_tables(iter_stored_reports(collection), read_ratings(ratings_csv), outputs)


def build_master_results(collection, output) -> Path:
    """AI Energy Score's master_results.csv from the report collection; a malformed or
    old-schema report is named in the log and left out (the one reader of stored reports)."""
    return write_master_results(read_stored_reports(collection).reports, output)


def build_ratings(collection, ratings_csv, calibration_json, frozen=None) -> None:
    ratings.write_ratings(
        read_stored_reports(collection).reports, ratings_csv, calibration_json, frozen
    )


def read_ratings(path) -> pd.DataFrame:
    return read_csv_values(pd.read_csv(path, dtype={"stars": "Int64", "class": "string"}))


def build_figure(name: str, collection, outputs, ratings_csv=None) -> None:
    """Draw the comparison figure ``name`` (a module of energybench.publish.paper.figures)."""
    reports = read_stored_reports(collection).reports
    figure = importlib.import_module(f"energybench.publish.paper.figures.{name}")
    if ratings_csv:
        figure.draw(reports, read_ratings(ratings_csv), outputs)
    else:
        figure.draw(reports, outputs)


def build_run_figure(report_path, timeline_path, outputs) -> None:
    """One run's power timeline; an unusable report gets a figure that says so."""
    from energybench.publish.paper.figures import timeline

    report, problem = read_stored_report(Path(report_path))
    if problem:
        log.warning("report %s: %s", report_path, problem)
        timeline.draw_unusable(Path(report_path).parent.name, outputs)
        return
    if report.note:  # an earlier attempt shown in place of a failed one: its own timeline
        timeline_path = shown_folder(Path(report_path), report.note) / Path(timeline_path).name
    timeline.draw(report, timeline_path if report.succeeded else None, outputs)


def build_label(report_path, ratings: pd.DataFrame, outputs) -> None:
    """One model's label; ``ratings``: the ratings table (:func:`read_ratings`)."""
    report, problem = read_stored_report(Path(report_path))
    if problem:
        log.warning("report %s: %s", report_path, problem)
        labels.draw_unusable(Path(report_path).parent.name, problem, outputs)
        return
    rating = ratings.set_index("model").loc[report.model].to_dict()
    labels.draw(report, {"model": report.model, **rating}, outputs)
