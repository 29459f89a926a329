"""Every CSV the project writes is safe to open in a spreadsheet: a text cell that would be
evaluated as a formula (CSV injection) is written behind a single quote, and our own readers
read it back as it was."""

import csv
import io

import pandas as pd
import paper_fixtures as fx
import pytest

from energybench.aes.master_results import aes_row, master_results_text
from energybench.run.files import (
    FORMULA_STARTS,
    csv_cell,
    csv_text,
    csv_value,
    read_csv_values,
)
from energybench.publish.merge import merge_tables
from energybench.publish.paper import ratings, tables
from energybench.publish.site.entries import read_ratings

FORMULAS = [
    '=HYPERLINK("x.org","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    "'=still a formula",
    "''+two quotes",
    "a\r=1",
    "b\r\n=1",
    " =1+1",
    "\u3000@SUM(A1)",
    "\uff1d1+1",
    "' -x",
]
PLAIN = ["org/model", "it's", "'quoted'", "a=b", "", "1.5", " spaced", "' spaced"]


def spreadsheet_active(cell: str) -> bool:
    """Whether a spreadsheet would evaluate ``cell``: a formula start that is not a number."""
    if not cell.lstrip(" \u00a0\u3000").startswith(FORMULA_STARTS):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def active_cells(text: str) -> list[str]:
    """The cells a spreadsheet would evaluate, reading ``text`` as one does: any line break,
    carriage returns included, ends a row outside quotes."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=None))
        for cell in row
        if spreadsheet_active(cell)
    ]


def read_back(value: str) -> str:
    """``value`` as our readers give it back: a carriage return as a line feed (unquoted, it
    would end the row)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("value", FORMULAS + PLAIN)
def test_a_cell_reads_back_as_it_was_and_is_never_a_formula(value):
    cell = csv_cell(value)
    assert not spreadsheet_active(cell) and csv_value(cell) == read_back(value)
    assert (cell == value) == (value in PLAIN)


def test_numbers_stay_numbers():
    assert csv_cell(-1.5) == -1.5 and csv_value("-1.5") == "-1.5"


def reports_named(model_id: str):
    """A model whose Hub id is ``model_id`` (its name in the tables), beside another."""
    report = fx.gpu_report("m", 1.0)
    report["config"]["id"] = model_id
    del report["config"]["tiny"]
    return fx.typed([report, fx.gpu_report("other", 2.0)])


@pytest.mark.parametrize("model_id", FORMULAS)
def test_the_tables_ratings_and_master_results_hold_no_formula(tmp_path, model_id):
    outputs = {name: tmp_path / f"{name}.csv" for name in tables.TABLES}
    stars, _ = ratings.rate(reports_named(model_id))
    tables.write_tables(
        reports_named(model_id), stars, outputs | {"latex": tmp_path / "models.tex"}
    )
    ratings.write_ratings(reports_named(model_id), tmp_path / "ratings.csv", tmp_path / "c.json")
    master = tmp_path / "master_results.csv"
    master.write_text(master_results_text([aes_row(r) for r in reports_named(model_id)]))
    for path in [*outputs.values(), tmp_path / "ratings.csv", master]:
        assert active_cells(path.read_text()) == [], path.name
    models = read_csv_values(pd.read_csv(outputs["models"]))
    assert read_back(model_id) in models.astype(str).to_numpy()
    merge_tables(tmp_path / "merged.csv", [master, master])
    assert active_cells((tmp_path / "merged.csv").read_text()) == []
    merged = list(csv.reader(io.StringIO((tmp_path / "merged.csv").read_text())))
    assert [row[0] for row in merged].count(csv_cell(model_id)) == 2  # guarded once, not twice


def test_the_site_reads_the_ratings_as_they_were(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(csv_text(["model", "unrated_reason"], [["m", "=no GPU"], ["n", "-"]]))
    assert read_ratings(path) == {
        "m": {"model": "m", "unrated_reason": "=no GPU"},
        "n": {"model": "n", "unrated_reason": "-"},
    }


@pytest.mark.parametrize("model_id", FORMULAS)
def test_the_sites_leaderboard_csv_holds_no_formula(model_id):
    from energybench.publish.site.download import leaderboard_csv
    from energybench.publish.site.entries import model_entry, ranked

    entries = [
        {**model_entry(report, None), "report": report} for report in reports_named(model_id)
    ]
    ranked(entries)
    assert active_cells(leaderboard_csv(entries)) == []
