"""Every report set the schema accepts builds every paper output and the site (issue 24, item
1): report sets drawn at random (seeded, so a failure reproduces) from the variations the
schema allows — optional sections left out, unknown figures null with their reasons, failed
runs, one trial or several, CPU-only and GPU runs, energies of 1e-9 and 1e6 Wh, zero
throughput, 100-character keys, markup and TeX in ids and errors, a frozen calibration that
does not match the set — and the empty set."""

from __future__ import annotations

import copy
import json
import random
import string

import pandas as pd
import paper_fixtures as fx
import pytest

from energybench.publish.paper import build, style
from energybench.publish.paper.figures import energy, latency, pareto, phases
from energybench.publish.paper.ranking import rated_figure
from energybench.publish.paper.labels_and_timelines import ModelFiles, draw_labels_and_timelines
from energybench.publish.paper.stored import write_collection
from energybench.run.report import validate_report
from energybench.publish.site import build_site

SEEDS = range(8)
# Two "$" around a broken TeX command: parsed as math, it fails the labels job (issue 24).
MARKUP = "<b>&amp;\"'</b><script>x()</script> \\ _ % $ # { } ~ ^ & 100% $\\notacommand_{$ x"
KEY_CHARACTERS = string.ascii_letters + string.digits + "._-"
OPTIONAL_SECTIONS = ("phases", "steady_state", "latency", "idle", "timeline_file")
FIGURES = {"energy": energy, "pareto": pareto, "phases": phases, "latency": latency}
TABLES = ("models", "trials", "phases", "latency", "checks")


def model_key(rng: random.Random, number: int) -> str:
    """A key the configuration accepts: short, or the longest (100 characters)."""
    key = f"m{number}-" + "".join(rng.choices(KEY_CHARACTERS, k=rng.choice([0, 3, 12])))
    return key if rng.random() < 0.7 else (key + "x" * 100)[:100]


def energy_wh(rng: random.Random) -> float:
    return rng.choice([1e-9, 1e6, 10 ** rng.uniform(-3, 3)])


def statistics_blocks(report: dict) -> list[dict]:
    """Every figure-over-trials block of the report's energy and metrics."""
    energy_section = report["energy"]
    blocks = [
        component.get("trial_statistics") or {}
        for component in (*energy_section["components"].values(), energy_section["total"])
    ]
    blocks.append(report["metrics"].get("trial_statistics") or {})
    return [
        block for statistics in blocks for block in statistics.values() if isinstance(block, dict)
    ]


def one_trial(report: dict) -> None:
    """One trial: each figure's one value, no spread, and why there is no interval."""
    report["trials"] = report["trials"][:1]
    for block in statistics_blocks(report):
        if block.get("mean") is not None:
            block.update(
                values=[block["mean"]],
                n_valid=1,
                std=None,
                cv=None,
                ci_low=None,
                ci_high=None,
                reason="one trial: no spread, so no interval",
            )


def many_trials(report: dict, count: int) -> None:
    report["trials"] = [
        {**copy.deepcopy(report["trials"][0]), "index": index} for index in range(count)
    ]


def interval_below_zero(report: dict) -> None:
    """Trials too few or too spread: the interval's low bound of each figure under 0."""
    for block in statistics_blocks(report):
        if block.get("mean") is not None and block.get("ci_low") is not None:
            block["ci_low"] = -block["mean"]


def null_total(report: dict) -> None:
    """A run whose total energy is unknown (a component could not be read), with why."""
    reason = "RAPL unreadable: permission denied <and & more>"
    report["energy"]["total"].update(
        gross_joules=None, net_joules=None, reason=reason, trial_statistics=None
    )
    report["energy"]["total_energy_wh"] = report["energy"]["total_energy_kwh"] = None
    report["metrics"].update(
        total_wh_per_1000_queries=None, joules_per_token=None, tokens_per_joule=None
    )
    report["metrics"].get("trial_statistics", {}).pop("total_wh_per_1000_queries", None)


def without_gpu_phases(report: dict) -> None:
    """Issue 24's crash: measured GPU energy, and no ``phases.mean.gpu`` entry."""
    if report.get("phases"):
        report["phases"]["mean"].pop("gpu", None)


def succeeded_report(rng: random.Random, key: str) -> dict:
    kind = rng.choice(["cpu", "gpu", "gpu", "estimated", "served"])
    model_class = rng.choice(["A", "B", "C", None])
    if kind == "cpu":
        report = copy.deepcopy(fx.BASE)
        report["model"] = report["config"]["model"] = key
        report["config"]["class"] = model_class
    elif kind == "served":
        report = fx.served(key, energy_wh(rng), model_class=model_class or "B")
    else:
        report = fx.gpu_report(
            key,
            energy_wh(rng),
            model_class=model_class or "B",
            task=rng.choice(["text_generation", "summarization"]),
            spread=rng.choice([0.0, 0.1, 0.9]),
            estimated=kind == "estimated",
        )
        if report.get("phases") and rng.random() < 0.5:
            report = fx.with_split(report, energy_wh(rng) * 3.6, energy_wh(rng) * 3.6)
    variations = [
        one_trial,
        interval_below_zero,
        null_total,
        without_gpu_phases,
        lambda r: many_trials(r, rng.randint(2, 6)),
    ]
    for vary in variations:
        if rng.random() < 0.3:
            vary(report)
    if rng.random() < 0.2:
        report["summary"].update(completion_tokens_per_second=0.0, throughput_tokens_per_second=0.0)
    return report


def report_set(seed: int) -> list[dict]:
    """One set of 1 to 7 schema-valid reports, varied as the module says."""
    rng = random.Random(seed)
    reports = []
    for number in range(rng.randint(1, 7)):
        key = model_key(rng, number)
        if rng.random() < 0.2:
            report = fx.failed(key, rng.choice("ABC"))
            report["error"]["message"] = MARKUP
        else:
            report = succeeded_report(rng, key)
        report["config"]["id"] = rng.choice([f"org/{key}", MARKUP, None])
        for section in OPTIONAL_SECTIONS:
            if rng.random() < 0.15:
                report.pop(section, None)
        validate_report(report)  # the set is one the schema accepts
        reports.append(report)
    return reports


# A frozen calibration that does not match the set: no range for any group it holds.
FOREIGN_CALIBRATION = {
    "source": "another set",
    "groups": {
        "image_generation": {"min_wh_per_1000_queries": 0.1, "max_wh_per_1000_queries": 2.0}
    },
}


def build_every_output(reports: list[dict], root, frozen=None) -> list:
    """Tables, ratings (against the ``frozen`` calibration file, where given), comparison
    figures, each model's timeline and label, and the site, as the paper rules and the site
    rule make them, in this process. The paths written."""
    paths = fx.write_runs(root / "runs", reports)
    out = root / "out"
    out.mkdir()
    collection = write_collection(paths, out / "reports.jsonl")
    tables = {name: out / f"{name}.csv" for name in TABLES} | {"latex": out / "models.tex"}
    build.build_ratings(collection, out / "ratings.csv", out / "calibration.json", frozen)
    build.build_tables(collection, out / "ratings.csv", tables)
    written = [*tables.values(), out / "ratings.csv", out / "calibration.json"]
    for name in FIGURES:
        build.build_figure(
            name,
            collection,
            [out / f"{name}.png"],
            out / "ratings.csv" if name == "energy" else None,
        )
        written.append(out / f"{name}.png")
    files = {
        path.parent.name: ModelFiles(
            [out / "labels" / f"{path.parent.name}.png"],
            [out / "figures/runs" / path.parent.name / "power_timeline.png"],
        )
        for path in paths
    }
    draw_labels_and_timelines(
        collection,
        out / "ratings.csv",
        files,
        out / "drawn.json",
        {"label": "code", "timeline": "code"},
    )
    labels = [model.label[0] for model in files.values()]
    timelines = [model.timeline[0] for model in files.values()]
    index = build_site(
        collection, out / "site", ratings=out / "ratings.csv", labels=labels, figures=timelines
    )
    return [*written, *labels, *timelines, index]


@pytest.fixture(autouse=True)
def closed():
    yield
    style.plt.close("all")


# A figure whose names leave its axes no room (100-character keys) is drawn collapsed.
@pytest.mark.filterwarnings("error:constrained_layout not applied:UserWarning")
@pytest.mark.parametrize("seed", SEEDS)
def test_every_generated_report_set_builds_every_output(seed, tmp_path, monkeypatch):
    """Each output is made, non-empty, and keeps every model, and no figure's layout
    collapses; on odd seeds the comparison figures take their large forms (drawn above
    MANY_MODELS models)."""
    if seed % 2:
        for figure in FIGURES.values():
            monkeypatch.setattr(figure, "MANY_MODELS", 1)
    reports = report_set(seed)
    frozen = None
    if seed % 3 == 0:
        frozen = tmp_path / "frozen.json"
        frozen.write_text(json.dumps(FOREIGN_CALIBRATION))
    for path in build_every_output(reports, tmp_path, frozen):
        assert path.stat().st_size > 0, path
    keys = [report["model"] for report in reports]
    models = pd.read_csv(tmp_path / "out/models.csv", keep_default_na=False)
    assert models["model"].tolist() == keys
    ratings = pd.read_csv(tmp_path / "out/ratings.csv", keep_default_na=False)
    assert ratings["model"].tolist() == keys
    if frozen:  # every model unrated, and why: a measured one, the reason naming the file
        assert (ratings["stars"] == "").all() and (ratings["unrated_reason"] != "").all()
        measured = [r.model for r in fx.typed(reports) if rated_figure(r)[0] is not None]
        reasons = ratings.set_index("model")["unrated_reason"]
        assert all("frozen.json" in reasons[key] for key in measured)
    for key in keys:
        assert (tmp_path / "out/site/models" / f"{key}.html").is_file()
    assert "<script>x()" not in (tmp_path / "out/site/index.html").read_text()


def test_an_empty_set_builds_every_output(tmp_path):
    (tmp_path / "runs").mkdir()
    for path in build_every_output([], tmp_path):
        assert path.stat().st_size > 0, path


def test_the_generated_sets_hold_every_variation_the_test_promises():
    """A generator that stopped making a variation would leave it untested unsaid."""
    reports = [report for seed in SEEDS for report in report_set(seed)]
    assert any(r["status"] == "failed" for r in reports)
    assert any(len(r["model"]) == 100 for r in reports)
    assert any(r["config"].get("id") == MARKUP for r in reports)
    assert any(len(r["trials"]) == 1 for r in reports if r["status"] == "succeeded")
    assert any(len(r["trials"]) > 1 for r in reports)
    assert any(
        r["energy"]["components"]["gpu"]["gross_joules"] is None
        for r in reports
        if r["status"] == "succeeded"
    )
    assert any(r["metrics"]["wh_per_1000_queries"] in (1e-9, 1e6) for r in reports)
    assert any(r["summary"].get("completion_tokens_per_second") == 0.0 for r in reports)
    assert any(
        r["metrics"]["total_wh_per_1000_queries"] is None and r["status"] == "succeeded"
        for r in reports
    )
    assert any("phases" not in r for r in reports)
    assert any(
        r.get("phases")
        and "gpu" not in r["phases"]["mean"]
        and r["energy"]["components"]["gpu"]["gross_joules"] is not None
        for r in reports
    )


def test_a_gpu_run_without_a_gpu_phase_entry_has_no_split_and_says_why():
    report = fx.gpu_report("g", 1.0)
    without_gpu_phases(report)
    validate_report(report)
    [typed] = fx.typed([report])
    split, why = phases.split_of(typed)
    assert split is None and "no GPU prefill/decode figure in the report" in why


def test_a_dollar_pair_in_an_id_is_drawn_as_written_not_as_tex_math():
    """Text made after a figure (as every label and axis text is) keeps "./w$x$/m" whole:
    parsed as math it would lose its dollars, silently."""
    fig, axis = style.figure(2.0, 2.0)
    assert not axis.text(0.5, 0.5, "./w$x$/m").get_parse_math()
    assert not fig.text(0.0, 0.0, "./w$x$/m").get_parse_math()
