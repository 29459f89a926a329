"""Paper outputs from stored reports: tables, star ratings, figures and labels, with the bad
inputs of issue 12 (malformed or old reports, null energy, lone or equal models, unusable
calibration files)."""

import copy
import json
import logging
import os
import weakref

import pandas as pd
import pytest

import paper_fixtures as fx
from energybench.publish.paper import build, hardware, labels, latex, ratings, tables
from energybench.publish.paper.figures import pareto, selection, timeline
from energybench.publish.paper.stored import (
    UnreadableCollection,
    read_stored_reports,
    write_collection,
)
from energybench.run.report import unknown_component, validate_report


def models_table(reports):
    """models.csv's rows of ``reports``, as the tables rule makes them."""
    made = tables.TABLES["models"]
    return made.frame([row for report in reports for row in made.rows(report)])


def collected(paths, folder):
    """The aggregate rules' one input: ``paths`` gathered as the ``reports`` rule does."""
    return write_collection(paths, folder / "reports.jsonl")


def rated(reports, calibration=None):
    table, _ = ratings.rate(fx.typed(reports), calibration)
    return table.set_index("model")


# --- star ratings --------------------------------------------------------------------------


def test_stars_match_a_hand_checked_banding():
    # Range 0.5..5.5 Wh per 1,000 queries: five bands 1 Wh wide, 5 stars for the lowest.
    # 0.5 and 1.3 are in [0.5, 1.5) -> 5; 2.9 in [2.5, 3.5) -> 3; 3.6 in [3.5, 4.5) -> 2;
    # the maximum 5.5 closes the top band -> 1; 1.5 sits on an edge and goes up -> 4.
    values = {"a": 0.5, "b": 1.3, "c": 2.9, "d": 3.6, "e": 5.5, "edge": 1.5}
    table = rated([fx.gpu_report(m, v) for m, v in values.items()])
    assert table["stars"].to_dict() == {"a": 5, "b": 5, "c": 3, "d": 2, "e": 1, "edge": 4}
    assert table["rated"].all() and not table["out_of_calibration_range"].any()
    assert set(table["group"]) == {"text_generation/B"}
    assert list(table.reset_index().columns) == ratings.RATING_COLUMNS


def test_values_on_band_edges_fall_in_the_band_above_despite_rounding():
    # Range 1..3: edges at 1.4, 1.8, 2.2, 2.6, none of them exact in binary.
    values = {"low": 1.0, "e1": 1.4, "e2": 1.8, "e3": 2.2, "e4": 2.6, "high": 3.0}
    table = rated([fx.gpu_report(m, v) for m, v in values.items()])
    assert table["stars"].to_dict() == {"low": 5, "e1": 4, "e2": 3, "e3": 2, "e4": 1, "high": 1}


def test_text_generation_is_rated_per_class_other_tasks_per_task():
    reports = [
        fx.gpu_report("a1", 1, model_class="A"),
        fx.gpu_report("a2", 2, model_class="A"),
        fx.gpu_report("b1", 10, model_class="B"),
        fx.gpu_report("b2", 20, model_class="B"),
        fx.gpu_report("s1", 1, task="summarization"),
        fx.gpu_report("s2", 3, task="summarization", model_class="A"),
    ]
    table = rated(reports)
    assert table["stars"].to_dict() == {"a1": 5, "a2": 1, "b1": 5, "b2": 1, "s1": 5, "s2": 1}
    assert table.loc["s2", "group"] == "summarization"


def test_unrated_models_say_why():
    reports = [
        fx.failed("oom"),
        fx.gpu_report("alone", 2.0),
        fx.BASE,
        fx.gpu_report("guess", 1.0, model_class="C", estimated=True),
    ]
    table = rated(reports)
    assert not table["rated"].any() and table["stars"].isna().all()
    assert "run failed" in table.loc["oom", "unrated_reason"]
    assert "one model with measured GPU energy" in table.loc["alone", "unrated_reason"]
    assert "GPU energy unknown: not counted" in table.loc["tiny-llama-2l", "unrated_reason"]
    assert "estimate" in table.loc["guess", "unrated_reason"]


def test_all_equal_models_are_unrated_not_all_five_stars():
    table = rated([fx.gpu_report(m, 2.0) for m in ("x", "y", "z")])
    assert table["stars"].isna().all()
    assert table["unrated_reason"].str.contains("same GPU energy").all()


def write_calibration(tmp_path, document) -> str:
    path = tmp_path / "calibration.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_frozen_calibration_rates_new_models_and_flags_those_outside(tmp_path):
    frozen = ratings.read_calibration(
        write_calibration(
            tmp_path,
            {
                "source": "leaderboard 2025-10",
                "groups": {
                    "text_generation/B": {
                        "min_wh_per_1000_queries": 1.0,
                        "max_wh_per_1000_queries": 6.0,
                    }
                },
            },
        )
    )
    # Width 1: 3.5 in [3, 4) -> 3 stars; 0.2 below -> 5 flagged; 7 above -> 1 flagged.
    table = rated(
        [fx.gpu_report("mid", 3.5), fx.gpu_report("low", 0.2), fx.gpu_report("high", 7.0)], frozen
    )
    assert table["stars"].to_dict() == {"mid": 3, "low": 5, "high": 1}
    assert table["out_of_calibration_range"].to_dict() == {"mid": False, "low": True, "high": True}
    assert table["calibration_source"].str.contains("leaderboard 2025-10").all()


def test_a_single_model_is_rated_against_a_frozen_calibration(tmp_path):
    path = tmp_path / "computed.json"
    ratings.write_ratings(
        fx.typed([fx.gpu_report("a", 1.0), fx.gpu_report("b", 6.0)]), tmp_path / "r.csv", path
    )
    table = rated([fx.gpu_report("new", 3.5)], ratings.read_calibration(path))
    assert table.loc["new", "stars"] == 3 and bool(table.loc["new", "rated"])


@pytest.mark.parametrize(
    "document, expected",
    [
        ("{not json", "is unusable"),
        ({"source": "x"}, "'groups' is a required property"),
        (
            {
                "source": "x",
                "groups": {
                    "text_generation/B": {
                        "min_wh_per_1000_queries": 2,
                        "max_wh_per_1000_queries": 2,
                    }
                },
            },
            "not above",
        ),
        (
            {
                "source": "x",
                "groups": {
                    "image_generation": {"min_wh_per_1000_queries": 1, "max_wh_per_1000_queries": 2}
                },
            },
            "has no range for group text_generation/B",
        ),
    ],
)
def test_unusable_calibration_file_leaves_models_unrated_with_the_reason(
    tmp_path, document, expected
):
    path = write_calibration(tmp_path, document)
    table = rated(
        [fx.gpu_report("a", 1.0), fx.gpu_report("b", 2.0)], ratings.read_calibration(path)
    )
    assert table["stars"].isna().all()
    assert table["unrated_reason"].str.contains(expected).all()
    assert table["unrated_reason"].str.contains(path).all()


# --- reading reports and tables ------------------------------------------------------------


def bad_reports(tmp_path):
    old = dict(fx.BASE, schema_version="0.9", model="old")
    paths = fx.write_runs(tmp_path / "runs", [fx.gpu_report("good", 1.0), fx.failed("oom"), old])
    (tmp_path / "runs/broken").mkdir()
    (tmp_path / "runs/broken/benchmark_report.json").write_text("{truncated")
    (tmp_path / "runs/list").mkdir()
    (tmp_path / "runs/list/benchmark_report.json").write_text("[]")
    return paths + [
        tmp_path / "runs/broken/benchmark_report.json",
        tmp_path / "runs/list/benchmark_report.json",
    ]


def test_malformed_and_old_schema_reports_are_named_in_the_log_and_skipped(tmp_path, caplog):
    paths = bad_reports(tmp_path)
    with caplog.at_level(logging.WARNING):
        stored = read_stored_reports(collected(paths, tmp_path))
    assert [r.model for r in stored.reports] == ["good", "oom"]
    assert "schema_version '0.9'" in stored.skipped[str(paths[2])]
    assert "not JSON" in stored.skipped[str(paths[3])]
    assert stored.skipped[str(paths[4])] == "not a JSON object but an array"
    assert str(paths[2]) in caplog.text and str(paths[3]) in caplog.text


def test_the_collection_keeps_every_report_in_order_and_the_unusable_with_why(tmp_path):
    paths = bad_reports(tmp_path)
    collection = collected(paths, tmp_path)
    entries = [json.loads(line) for line in collection.read_text().splitlines()]
    assert [e["path"] for e in entries] == [str(p) for p in paths]
    assert [e["report"]["model"] for e in entries[:2]] == ["good", "oom"]
    assert [sorted(e) for e in entries[2:]] == [["path", "problem"]] * 3
    stored = read_stored_reports(collection)
    assert stored.paths == paths[:2]
    assert stored.reports[0].to_dict() == json.loads(paths[0].read_text())
    assert sorted(os.listdir(tmp_path)) == [
        "reports.jsonl",
        "runs",
    ]  # written atomically, no leftovers


def test_a_file_that_is_no_collection_is_named_with_its_line(tmp_path):
    collection = collected(fx.write_runs(tmp_path / "runs", [fx.failed("oom")]), tmp_path)
    with collection.open("a") as handle:
        handle.write('{"report": {}}\n')
    with pytest.raises(UnreadableCollection, match=rf"{collection}, line 2: not an entry"):
        read_stored_reports(collection)


def test_tables_keep_failed_models_and_mark_invalid_phases(tmp_path):
    outputs = {
        name: tmp_path / f"{name}.csv"
        for name in ("models", "trials", "phases", "latency", "checks")
    }
    outputs["latex"] = tmp_path / "models.tex"
    reports = [fx.gpu_report("good", 1.0), fx.failed("oom"), fx.served("served", 2.0)]
    collection = collected(fx.write_runs(tmp_path / "runs", reports), tmp_path)
    build.build_ratings(collection, tmp_path / "ratings.csv", tmp_path / "calibration.json")
    build.build_tables(collection, tmp_path / "ratings.csv", outputs)
    models = pd.read_csv(outputs["models"]).set_index("model")
    assert models.loc["oom", "status"] == "failed" and pd.isna(models.loc["oom", "gpu_energy_wh"])
    assert models.loc["good", "wh_per_1000_queries_ci_low"] == pytest.approx(0.9)
    assert models.loc["good", "wh_per_1000_queries_ci_high"] == pytest.approx(1.1)
    trials = pd.read_csv(outputs["trials"])
    assert trials.loc[trials["model"] == "oom", "failure"].str.contains("out of memory").all()
    phases = pd.read_csv(outputs["phases"])
    gpu = phases[(phases["model"] == "good") & (phases["component"] == "gpu")]
    assert not gpu["valid"].any() and gpu["prefill"].isna().all()  # invalid, never 0
    good = phases[phases["model"] == "good"].set_index("component")
    assert bool(good.loc["ram", "valid"]) and good.loc["ram", "decode"] > 0
    # Per query and per token too: the pass's figure over the pass's own counts.
    [typed_good] = fx.typed([reports[0]])
    assert good.loc["ram", "decode_j_per_query"] == pytest.approx(
        typed_good.phases_per_trial[0]["ram"]["decode_j_per_query"]
    )
    assert good.loc["ram", "decode_j_per_generated_token"] == pytest.approx(
        good.loc["ram", "decode"]
        * good.loc["ram", "generate_passes"]
        / typed_good.trials[0].completion_tokens
    )
    assert pd.isna(good.loc["latency", "decode_j_per_query"])  # seconds: no energy
    assert not good.loc["cpu", "valid"] and "resolved only" in good.loc["cpu", "invalid_reason"]
    assert set(good["prefill_passes"]) == {5}
    assert set(phases.loc[phases["model"] == "served", "invalid_reason"]) == {
        "the backend measures no prefill/decode split"
    }
    checks = pd.read_csv(outputs["checks"])
    assert set(checks["model"]) == {"good", "served"}  # the failed run made no check
    assert "window_long_enough" in set(checks.loc[checks["passed"] == False, "name"])  # noqa: E712
    latency = pd.read_csv(outputs["latency"])
    assert set(latency["model"]) == {"served"} and len(latency) == 4
    assert latency.set_index("metric").loc["ttft_s", "p99"] == pytest.approx(0.2)


def test_each_report_is_validated_once_for_every_aggregate_output(tmp_path, monkeypatch):
    """Validation was most of the tables' time at 1,000 reports (docs/PERFORMANCE.md): the
    collection validates each report once, and the tables, ratings and figures read it."""
    from energybench.publish.paper import stored

    validated = []
    monkeypatch.setattr(stored, "validate_report", lambda report: validated.append(report["model"]))
    outputs = {
        name: tmp_path / f"{name}.csv"
        for name in ("models", "trials", "phases", "latency", "checks")
    }
    outputs["latex"] = tmp_path / "models.tex"
    reports = [fx.gpu_report("a", 1.0), fx.gpu_report("b", 2.0)]
    collection = collected(fx.write_runs(tmp_path / "runs", reports), tmp_path)
    made = []
    original = tables.report_row
    monkeypatch.setattr(tables, "report_row", lambda r: made.append(r.model) or original(r))
    build.build_ratings(collection, tmp_path / "ratings.csv", tmp_path / "calibration.json")
    build.build_tables(collection, tmp_path / "ratings.csv", outputs)
    assert made == ["a", "b"]  # models.csv and the LaTeX table share one models table
    build.build_figure("pareto", collection, [tmp_path / "pareto.png"])
    assert sorted(validated) == ["a", "b"]
    assert list(pd.read_csv(outputs["models"])["model"]) == ["a", "b"]


def models_latex(reports: list[dict]) -> str:
    typed = fx.typed(reports)
    return latex.models_latex(models_table(typed), ratings.rate(typed)[0])


def test_latex_table_is_a_booktabs_longtable_with_units_intervals_and_stars():
    reports = [fx.gpu_report("model_1", 1.0), fx.gpu_report("model_2", 2.0), fx.failed("oom")]
    text = models_latex(reports)
    assert text.startswith("\\begin{longtable}{lrrrrl}\n")  # numbers right-aligned
    for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\endhead", "\\endlastfoot"):
        assert rule in text
    assert "Model & Stars & GPU energy (Wh/1,000 queries) &" in text
    assert "model\\_1 & 5 & 1.00 [0.900, 1.10] &" in text
    assert "oom & -- & -- & -- & -- & failed" in text
    # window_long_enough fails in the trial and in its prefill window: named once.
    assert "checks failed: window\\_long\\_enough \\\\" in text


def test_latex_rows_are_ranked_by_the_rated_figure_within_each_rating_group():
    reports = [
        fx.gpu_report("b-high", 5.0),
        fx.gpu_report("c-only", 3.0, model_class="C"),
        fx.failed("a-failed"),
        fx.gpu_report("b-low", 1.0),
        fx.gpu_report("b-mid", 2.0, estimated=True),
        fx.gpu_report("b-least", 0.5),
    ]
    rows = [
        line.split(" & ")[0]
        for line in models_latex(reports).splitlines()
        if line.endswith("\\\\") and "&" in line and not line.startswith("Model")
    ]
    # Class B: the rated ones by GPU energy, then the unrated (an estimate, a failure);
    # class C after it, its one model unrated (no range to band).
    assert rows == ["b-least", "b-low", "b-high", "b-mid", "a-failed", "c-only"]
    text = models_latex(reports)
    assert text.index("textit{text generation, class B}") < text.index("b-least")
    assert (
        text.index("b-mid") < text.index("textit{text generation, class C}") < text.index("c-only")
    )


@pytest.mark.parametrize(
    "value, text",
    [
        (2.0, "2.00"),
        (1.96, "1.96"),
        (0.05, "0.0500"),
        (990.0, "990"),
        (12.34, "12.3"),
        (999.7, "1,000"),
        (33412.0, "33,400"),
        (999_499.0, "999,000"),
        (999_500.0, "$1.00\\times10^{6}$"),
        (1e6, "$1.00\\times10^{6}$"),
        (0.0, "0"),
        (-0.998, "$-$0.998"),
        (1e-9, "$1.00\\times10^{-9}$"),
        (0.000999, "$9.99\\times10^{-4}$"),
        (0.0009996, "0.00100"),
        (None, "--"),
        (float("nan"), "--"),
    ],
)
def test_latex_numbers_keep_three_significant_digits_and_true_minus_signs(value, text):
    assert latex.number(value) == text


def test_latex_intervals_never_print_a_negative_energy_bound():
    assert latex.with_interval(1.28, -0.998, 3.55) == "1.28 [0\\textsuperscript{\\dag}, 3.55]"
    assert latex.with_interval(33412.0, 32000.0, 34800.0) == "33,400 [32,000, 34,800]"
    assert latex.with_interval(0.0512, 0.05, 0.0524) == "0.0512 [0.0500, 0.0524]"
    assert latex.with_interval(None, 0.1, 0.2) == "--"
    assert latex.with_interval(2.0, None, None) == "2.00"
    assert "\\dag: the interval's lower bound is below 0, shown as 0" in latex.LEGEND


def test_latex_text_is_escaped_as_pandas_styler_escapes_it():
    from pandas.io.formats.style_render import _escape_latex

    for text in ("a_b & c%$#{}~^\\ x", "~ ^ \\ \\\\", "{}", "", "x~y^z"):
        assert latex.escape(text) == _escape_latex(text)


def test_the_tables_keep_each_reports_rows_not_the_report(tmp_path):
    """At 1,000 reports, holding every typed report made the cycle collector walk them over
    and over (docs/PERFORMANCE.md): the tables take one report at a time."""
    alive = []

    def one_at_a_time():
        for document in [fx.gpu_report(f"m{i}", 1.0 + i) for i in range(4)] + [fx.failed("f")]:
            assert all(ref() is None for ref in alive[:-1]), "an earlier report is still held"
            report = fx.typed([document])[0]
            alive.append(weakref.ref(report))
            yield report
            del report

    outputs = {name: tmp_path / f"{name}.csv" for name in tables.TABLES}
    stars = pd.DataFrame(columns=ratings.RATING_COLUMNS)
    tables.write_tables(one_at_a_time(), stars, outputs | {"latex": tmp_path / "models.tex"})
    assert len(alive) == 5
    assert list(pd.read_csv(outputs["models"])["model"]) == ["m0", "m1", "m2", "m3", "f"]


# --- figures and labels ----------------------------------------------------------------------


def test_pareto_front_keeps_only_undominated_models():
    candidates = [
        {"model": m, "throughput": t, "joules_per_token": j, "estimated": False}
        for m, t, j in [
            ("fast", 100, 2.0),
            ("frugal", 10, 0.5),
            ("dominated", 50, 3.0),
            ("middle", 50, 1.0),
        ]
    ]
    assert [p["model"] for p in pareto.pareto_front(candidates)] == ["frugal", "middle", "fast"]


def test_pareto_plots_generated_tokens_per_second_as_its_axis_says():
    report = fx.gpu_report("g", 1.0)
    report["summary"].update(
        throughput_tokens_per_second=2000.0,  # prompt + completion
        completion_tokens_per_second=400.0,
    )
    [point] = pareto.points(fx.typed([report]))
    assert point["throughput"] == 400.0


def test_no_legend_entry_for_a_component_nobody_measured():
    assert selection.measured_components(fx.typed([fx.BASE])) == ["cpu", "ram"]
    assert selection.measured_components(fx.typed([fx.BASE, fx.gpu_report("g", 1)])) == [
        "gpu",
        "cpu",
        "ram",
    ]


def build_everything(runs, out):
    """Every paper output of the reports under ``runs`` into ``out``; the written paths."""
    paths = sorted(runs.glob("*/benchmark_report.json"))
    collection = collected(paths, out)
    build.build_ratings(collection, out / "ratings.csv", out / "calibration.json")
    written = [out / "ratings.csv"]
    for name in ("energy", "pareto", "phases", "latency"):
        files = [out / f"{name}.png", out / f"{name}.pdf"]
        build.build_figure(
            name, collection, files, out / "ratings.csv" if name == "energy" else None
        )
        written += files
    for path in paths:
        model = path.parent.name
        files = [out / f"{model}_timeline.png", out / f"{model}_timeline.pdf"]
        build.build_run_figure(path, path.parent / "power_timeline.csv", files)
        labels_out = [out / f"{model}.svg", out / f"{model}.png"]
        build.build_label(path, build.read_ratings(out / "ratings.csv"), labels_out)
        written += files + labels_out
    return written


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Measured, estimated (CPU), failed and served models, and a malformed report."""
    runs = tmp_path_factory.mktemp("runs")
    reports = [fx.gpu_report(f"model-{i:02d}", 0.5 + i * 0.1) for i in range(3)]
    reports += [fx.failed("oom"), fx.BASE, fx.served("served", 2.0)]
    fx.write_runs(runs, reports)
    (runs / "broken").mkdir()
    (runs / "broken/benchmark_report.json").write_text("[]")
    return runs


def test_figures_and_labels_are_byte_identical_across_builds(runs, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    written = build_everything(runs, first)
    build_everything(runs, second)
    assert len(written) == 1 + 8 + 7 * 4
    for path in written:
        assert path.stat().st_size > 500, path
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    pdf = (first / "energy.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"<dc:date>" not in (first / "model-00.svg").read_bytes()


def test_fifty_models_get_a_readable_height(tmp_path):
    from PIL import Image

    reports = [
        fx.gpu_report(f"model-{i:02d}", 0.5 + i * 0.1, model_class="ABC"[i % 3]) for i in range(50)
    ] + [fx.failed("oom"), fx.BASE, fx.served("served", 2.0)]
    paths = fx.write_runs(tmp_path / "runs", reports, timeline=False)
    collection = collected(paths, tmp_path)
    build.build_ratings(collection, tmp_path / "r.csv", tmp_path / "c.json")
    build.build_figure("energy", collection, [tmp_path / "e.png"], tmp_path / "r.csv")
    width, height = Image.open(tmp_path / "e.png").size
    # ~0.28 in per model row at 150 dpi: each of the 53 model names keeps its own line.
    assert height / 53 > 0.25 * 150


def test_label_of_an_unrated_cpu_run_shows_why(tmp_path):
    [base] = fx.typed([fx.BASE])
    table, _ = ratings.rate([base])
    rating = table.iloc[0].to_dict()
    assert labels.headline(base, rating)[0] == "not measured"
    assert "CPU" in hardware.hardware_of(base)
    labels.draw(base, rating, [tmp_path / "label.svg"])
    assert (tmp_path / "label.svg").read_text().startswith("<?xml")


def test_a_label_of_a_thousand_wh_and_up_reads_as_a_whole_number():
    [report] = fx.typed([fx.gpu_report("g", 33412.0)])
    assert labels.headline(report, {"gpu_wh_per_1000_queries": 33412.0})[0] == "33,412 Wh"


def test_label_hardware_is_what_the_run_counted_not_every_gpu_the_meters_saw():
    """NVML watches the host's GPUs even for a CPU run or an external endpoint: those GPUs
    are not the hardware the model ran on."""
    host_gpu = {
        "meter": "nvml",
        "component": "gpu",
        "devices": [{"device": "gpu0", "name": "NVIDIA H100 80GB HBM3"}],
    }
    cpu_run = copy.deepcopy(fx.BASE)
    cpu_run["provenance"]["meters"]["meters"]["gpu"] = host_gpu
    assert hardware.hardware_of(*fx.typed([cpu_run])).startswith("CPU: ")
    external = copy.deepcopy(cpu_run)
    reason = "external endpoint: its hardware is not metered here"
    for name in ("cpu", "ram"):
        external["energy"]["components"][name] = unknown_component(reason).to_dict()
    assert hardware.hardware_of(*fx.typed([external])) == f"not metered here ({reason})"
    gpu_run = fx.gpu_report("g", 1.0)
    gpu_run["provenance"]["meters"]["meters"]["gpu"] = host_gpu
    assert hardware.hardware_of(*fx.typed([gpu_run])) == "1 x NVIDIA H100 80GB HBM3"


def test_an_empty_set_still_builds_every_figure(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "out").mkdir()
    for path in build_everything(tmp_path / "runs", tmp_path / "out"):
        assert path.stat().st_size > 0, path


def test_interval_columns_and_error_bars_are_the_reports_interval_of_the_figure():
    """The table and the energy figure select the interval over trials that the report holds
    for energy per 1,000 queries (each trial's energy over its own responses); they do not
    rescale the gross energy's interval by one trial's response count."""
    document = fx.gpu_report("m", 1.0)
    statistics = document["metrics"]["trial_statistics"]
    statistics["wh_per_1000_queries"].update(ci_low=0.7, ci_high=1.4)
    statistics["total_wh_per_1000_queries"].update(ci_low=0.75, ci_high=1.5)
    [report] = fx.typed([document])
    row = models_table([report]).iloc[0]
    assert (row["wh_per_1000_queries_ci_low"], row["wh_per_1000_queries_ci_high"]) == (0.7, 1.4)
    assert (row["total_wh_per_1000_queries_ci_low"], row["total_wh_per_1000_queries_ci_high"]) == (
        0.75,
        1.5,
    )
    assert selection.total_interval_wh(report) == (0.75, 1.5)


def test_stacked_components_are_the_reports_own_per_1000_queries_figures():
    [report] = fx.typed([fx.gpu_report("m", 2.0)])
    assert report.wh_per_1000_queries["gpu"] == pytest.approx(2.0)
    cpu = report.energy.components["cpu"].gross_joules
    assert report.wh_per_1000_queries["cpu"] == pytest.approx(cpu / 3.6 / fx.RESPONSES)
    [failed] = fx.typed([fx.failed("oom")])
    assert set(failed.wh_per_1000_queries.values()) == {None}  # unknown, never 0


def test_a_missing_device_reading_is_a_gap_in_the_component_line_not_a_dip():
    samples = pd.DataFrame(
        {
            "t": [0.0, 0.0, 0.1, 0.1, 0.2, 0.2],
            "component": ["gpu"] * 6,
            "device": ["gpu0", "gpu1"] * 3,
            "power_w": [100.0, 200.0, 100.0, None, 110.0, 190.0],
            "estimated": [False] * 6,
        }
    )
    gpu = timeline.component_power(samples)["gpu"]
    assert gpu["power_w"].iloc[0] == 300.0 and gpu["power_w"].iloc[2] == 300.0
    assert pd.isna(gpu["power_w"].iloc[1])  # not 100 W: gpu1's reading is unknown


def test_the_power_timeline_shades_the_model_load(monkeypatch, tmp_path):
    from energybench.publish.paper import style
    from energybench.run.report import unknown_component
    from energybench.run.sections import Load

    samples = tmp_path / "power_timeline.csv"
    pd.DataFrame(
        {
            "t": [0.0, 1.0, 2.0],
            "component": ["cpu"] * 3,
            "device": ["cpu0"] * 3,
            "power_w": [5.0, 20.0, 5.0],
            "estimated": [False] * 3,
        }
    ).to_csv(samples)
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    [report] = fx.typed([fx.BASE])
    load = Load.of(
        definition="load",
        start_s=0.2,
        end_s=1.5,
        duration_s=1.3,
        metered_s=1.3,
        before_meters_s=0.0,
        reason=None,
        components={},
        total=unknown_component("not metered"),
    )
    loaded = report.model_copy(update={"load": load})
    for shown in (report, loaded):
        timeline.draw(shown, samples, [])
    legends = [[t.get_text() for t in fig.legends[0].get_texts()] for fig in figures]
    assert "model load" not in legends[0] and "model load" in legends[1]


def test_the_power_timeline_marks_the_idle_and_warm_up_windows_or_says_they_are_unrecorded(
    monkeypatch, tmp_path
):
    from energybench.publish.paper import style

    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    recorded = copy.deepcopy(fx.BASE)
    recorded["idle"].update(start_s=6.0, end_s=8.0)
    recorded["warm_up"] = {"start_s": 8.3, "end_s": 9.6}
    validate_report(recorded)
    samples = fx.DATA / "power_timeline.csv"
    for report in fx.typed([recorded, fx.BASE]):
        timeline.draw(report, samples, [])
    windows = {
        patch.get_hatch(): patch.get_x()
        for patch in figures[0].axes[0].patches
        if patch.get_hatch() in timeline.WINDOW_HATCHES.values()
    }
    assert windows == {
        timeline.WINDOW_HATCHES["idle baseline window"]: 6.0,
        timeline.WINDOW_HATCHES["warm-up"]: 8.3,
    }
    legend = [t.get_text() for t in figures[0].legends[0].get_texts()]
    assert {"idle baseline window", "warm-up", "trial window"} <= set(legend)
    notes = [t.get_text() for t in figures[1].axes[0].texts]
    assert "not recorded in this report: idle baseline window, warm-up" in notes
    assert not any("not recorded" in t.get_text() for t in figures[0].axes[0].texts)


def test_a_latency_metric_no_request_measured_is_an_empty_row_not_an_error():
    report = fx.served("served", 1.0)
    report["latency"]["itl_s"] = None  # e.g. every response was a single token
    rows = {row["metric"]: row for row in tables.latency_rows(fx.typed([report])[0])}
    assert {rows["itl_s"][k] for k in ("count", "mean", "median", "p90", "p99")} == {None}
    assert rows["ttft_s"]["count"] >= 1
