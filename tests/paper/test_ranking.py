"""Rank what is rated (issue 24, item 3): each rating group ranked by the figure the stars
rate, measured GPU energy, in the tables, the energy figure and the site; a total marked
estimated only where its estimated components weigh (docs/paper.md, "Ranking")."""

import copy

import paper_fixtures as fx
import pytest

from energybench.publish.paper import latex, ranking, ratings, style, tables
from energybench.publish.paper.figures import energy
from energybench.publish.site.entries import model_entry, ranked


def with_cpu_share(share: float) -> dict:
    """A GPU run whose estimated CPU energy is ``share`` of its total (RAM measured by none)."""
    report = fx.gpu_report("shared", 1.0)
    components = report["energy"]["components"]
    gpu = components["gpu"]["gross_joules"]
    components["cpu"]["gross_joules"] = gpu * share / (1 - share)
    components["ram"]["gross_joules"] = 0.0
    report["energy"]["total"]["gross_joules"] = gpu / (1 - share)
    return report


def test_the_rated_figure_is_measured_gpu_energy_or_says_why_not():
    [measured, cpu_only, guessed, failed] = fx.typed(
        [fx.gpu_report("g", 2.0), fx.BASE, fx.gpu_report("e", 1.0, estimated=True), fx.failed("f")]
    )
    assert ranking.rated_figure(measured) == (pytest.approx(2.0), None)
    reason = "GPU energy unknown: not counted: the run used no GPU"
    assert ranking.rated_figure(cpu_only) == (None, reason)
    assert ranking.rated_figure(guessed) == (None, "GPU energy estimated, not measured")
    assert ranking.rated_figure(failed) == (None, "run failed")


@pytest.mark.parametrize(
    "share, marked", [(0.0, False), (0.05, False), (0.0999, False), (0.10, True), (0.4, True)]
)
def test_a_total_is_marked_estimated_from_a_tenth_estimated_up(share, marked):
    [report] = fx.typed([with_cpu_share(share)])
    assert ranking.estimated_share(report.energy) == pytest.approx(share)
    assert ranking.total_marked_estimated(report.energy) is marked


def test_a_metered_gpu_beside_small_cpu_estimates_is_not_marked_an_all_estimate_is():
    [gpu, cpu_only] = fx.typed([fx.gpu_report("g", 1.0), fx.BASE])
    assert gpu.energy.estimated and not ranking.total_marked_estimated(gpu.energy)
    assert ranking.total_marked_estimated(cpu_only.energy)
    assert not model_entry(gpu, None)["total_wh_per_1000_queries"]["estimated"]
    assert model_entry(cpu_only, None)["total_wh_per_1000_queries"]["estimated"]
    cells = {row[0]: row[3] for row in latex_rows([fx.gpu_report("g", 1.0), fx.BASE])}
    assert not cells["g"].endswith("*") and cells["tiny-llama-2l"].endswith("*")


def latex_rows(reports: list[dict]) -> list[list[str]]:
    typed = fx.typed(reports)
    table = tables.TABLES["models"].frame([tables.report_row(r) for r in typed])
    rated = ratings.rate(typed)[0].set_index("model")
    return [
        latex.cells({**row, "stars": rated.loc[row["model"], "stars"]})
        for row in table.to_dict("records")
    ]


def cheap_cpu_run() -> dict:
    """A CPU-only run with the least total energy of its group: it must not head the ranking."""
    report = copy.deepcopy(fx.BASE)
    report["model"] = report["config"]["model"] = "cpu-cheapest"
    report["config"]["class"] = "B"
    return report


def test_the_energy_figure_ranks_each_group_by_gpu_energy_not_total(monkeypatch):
    reports = fx.typed(
        [
            fx.gpu_report("dear", 3.0),
            cheap_cpu_run(),
            fx.gpu_report("cheap", 1.0),
            fx.gpu_report("mid", 2.0),
        ]
    )
    assert min(reports, key=lambda r: r.metrics.total_wh_per_1000_queries).model == "cpu-cheapest"
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    energy.draw(reports, ratings.rate(reports)[0], [])
    [axis] = figures[0].axes
    assert [t.get_text() for t in axis.get_yticklabels()] == [
        "cheap",
        "mid",
        "dear",
        "cpu-cheapest",
    ]
    style.plt.close("all")


def test_the_site_ranks_each_group_by_gpu_energy_and_says_why_a_model_is_unranked():
    reports = fx.typed(
        [
            fx.gpu_report("dear", 3.0),
            cheap_cpu_run(),
            fx.gpu_report("cheap", 1.0),
            fx.gpu_report("a-alone", 5.0, model_class="A"),
        ]
    )
    entries = [{**model_entry(r, None), "report": r} for r in reports]
    ranked(entries)
    assert [(e["key"], e["rank"]) for e in entries] == [
        ("a-alone", 1),
        ("cheap", 1),
        ("dear", 2),
        ("cpu-cheapest", None),
    ]
    assert [e["order"] for e in entries] == [0, 1, 2, 3]
    assert entries[-1]["rank_reason"].startswith("GPU energy unknown")
