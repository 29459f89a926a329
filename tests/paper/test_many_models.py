"""The comparison figures at 1,000 models (issue 15): each takes its large form, which fits a
page, names a few models without any two labels covering each other, and counts the models it
does not draw, by reason; up to MANY_MODELS models each keeps its one row per model."""

import itertools

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.text import Text

import paper_fixtures as fx
from energybench.publish.paper import ranking, ratings, style
from energybench.publish.paper.figures import energy, latency, pareto, phases
from energybench.publish.paper.figures.selection import MANY_MODELS, NAMED
from energybench.run.report import validate_report

PAGE_IN = (8.0, 10.0)  # the most a figure may take: a page's width and height


@pytest.fixture(autouse=True)
def closed():
    yield
    style.plt.close("all")  # drawn() hands each figure to its test, which leaves it open


@pytest.fixture(scope="module")
def thousand():
    return fx.typed(fx.many_reports(1000))


def drawn(monkeypatch, figure, reports, *args):
    """``figure``'s drawing of ``reports``, laid out (not written)."""
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    if figure is energy:
        args = (ratings.rate(reports)[0],)
    figure.draw(reports, *args, [])
    [fig] = figures
    fig.canvas.draw()
    return fig


def texts(fig) -> list[Text]:
    """Every label drawn: tick labels within the axes' limits (matplotlib keeps those outside
    but does not draw them), titles, annotations, legend entries, notes."""
    ticks, shown = set(), []
    for axis in fig.axes:
        for scale, coordinate in ((axis.xaxis, 0), (axis.yaxis, 1)):
            low, high = sorted(scale.get_view_interval())
            for tick in scale.get_major_ticks() + scale.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    ticks.add(label)
                    if low <= label.get_position()[coordinate] <= high:
                        shown.append(label)
    shown += [t for t in fig.findobj(Text) if t not in ticks]
    return [t for t in shown if t.get_visible() and t.get_text().strip()]


def overlapping(fig) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    # The text's own extent: an annotation's would take in its line to its point too
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts(fig)]
    boxes = [(text, box) for text, box in boxes if box.width > 0 and box.height > 0]
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


def named_models(fig, reports) -> set[str]:
    models = {r.model for r in reports}
    return {m for t in texts(fig) for m in models if m in t.get_text()}


def scatters(axis) -> list:
    """The points of each scatter on ``axis``."""
    return [c.get_offsets() for c in axis.collections if isinstance(c, PathCollection)]


def hatched(fig, hatch=style.INVALID_HATCH) -> list:
    return [p for axis in fig.axes for p in axis.patches if p.get_hatch() == hatch]


@pytest.mark.parametrize("figure", [energy, pareto, phases, latency])
def test_a_thousand_models_fit_a_page_and_no_two_labels_overlap(monkeypatch, thousand, figure):
    fig = drawn(monkeypatch, figure, thousand)
    width, height = fig.get_size_inches()
    assert width <= PAGE_IN[0] and height <= PAGE_IN[1]
    assert overlapping(fig) == []


def test_the_ranked_energy_figure_names_the_extremes_and_hatches_the_models_without_one(
    monkeypatch, thousand
):
    fig = drawn(monkeypatch, energy, thousand)
    groups = [axis for axis in fig.axes if axis.get_title(loc="left")]
    assert [axis.get_title(loc="left").split(":")[1].strip() for axis in groups] == [
        "text_generation/A",
        "text_generation/B",
        "text_generation/C",
    ]
    group_b = groups[1]
    # Ranked by the figure the stars rate: the failed runs and the estimated GPU energies
    # (all of class B) have none.
    without = [r for r in thousand if ranking.rated_figure(r)[0] is None]
    assert len(without) == 100
    assert (
        "100 without a figure (run failed: 50; GPU energy estimated, not measured: 50)"
        in group_b.get_title(loc="left")
    )
    [span] = hatched(fig)
    assert span.axes is group_b and span.get_width() == pytest.approx(100)
    members = [
        r for r in thousand if r.config["class"] == "B" and ranking.rated_figure(r)[0] is not None
    ]
    [points] = scatters(group_b)
    assert len(points) == len(members) and points[:, 1].min() > 0  # none at 0 for no figure
    assert sorted(points[:, 1]) == sorted(r.metrics.wh_per_1000_queries for r in members)
    cheapest = min(members, key=lambda r: r.metrics.wh_per_1000_queries).model
    dearest = max(members, key=lambda r: r.metrics.wh_per_1000_queries).model
    assert {cheapest, dearest} <= named_models(fig, members)
    assert len(named_models(fig, members)) == 2 * NAMED


def test_the_phases_scatter_counts_and_hatches_the_models_without_a_valid_split(
    monkeypatch, thousand
):
    fig = drawn(monkeypatch, phases, thousand)
    valid = [r for r in thousand if phases.split_of(r)[0]]
    assert 0 < len(valid) < len(thousand)
    per_query, per_token, share = fig.axes
    for axis, (prefill, decode, scale) in (
        (per_query, ("prefill_j_per_query", "decode_j_per_query", 1)),
        (per_token, ("prefill_j_per_prompt_token", "decode_j_per_generated_token", 1e3)),
    ):
        [points] = scatters(axis)
        assert len(points) == len(valid) and points.min() > 0
        # Each model's own figures per query and per token, as the report derives them.
        expected = sorted(
            (phases.split_of(r)[0][prefill] * scale, phases.split_of(r)[0][decode] * scale)
            for r in valid
        )
        assert np.allclose(sorted(map(tuple, points)), expected)
    assert "J" in per_query.get_xlabel() and "mJ" in per_token.get_xlabel()
    [bar] = hatched(fig)
    assert bar.get_width() == len(thousand) - len(valid)
    assert f"{len(thousand) - len(valid)} without a figure" in fig.get_suptitle()
    assert len(named_models(fig, thousand)) == 2 * NAMED


def test_the_large_pareto_names_only_front_models_and_counts_the_undrawn(monkeypatch, thousand):
    fig = drawn(monkeypatch, pareto, thousand)
    [axis] = fig.axes
    front = {p["model"] for p in pareto.pareto_front(pareto.points(thousand))}
    assert 0 < len(named_models(fig, thousand)) and named_models(fig, thousand) <= front
    assert axis.get_xscale() == axis.get_yscale() == "log"
    undrawn = len(thousand) - len(pareto.points(thousand))
    assert f"{undrawn} without a figure (no generated tokens / s: " in axis.get_title(loc="left")


def test_the_latency_distribution_counts_the_models_without_a_metric(monkeypatch, thousand):
    fig = drawn(monkeypatch, latency, thousand)
    served = [r for r in thousand if r.latency]
    without_itl = sum(r.latency.itl_s is None for r in served)
    assert len(served) > MANY_MODELS and without_itl > 0
    titles = [axis.get_title() for axis in fig.axes]
    assert titles[1] == f"{len(served) - without_itl} models, {without_itl} without"
    assert titles[0] == f"{len(served)} models"
    assert f"{len(served)} models drawn, 0 named" in fig.get_suptitle()
    assert named_models(fig, thousand) == set()


def few(count: int) -> list:
    """Served models, so that every figure draws each of them."""
    reports = [fx.served(f"model-{i:02d}", 0.5 + i * 0.1) for i in range(count)]
    for i, report in enumerate(reports):
        report["summary"]["completion_tokens_per_second"] = 10.0 + i
    return fx.typed(reports)


@pytest.mark.parametrize("figure", [energy, phases, latency])
def test_up_to_the_threshold_each_model_keeps_its_row_and_one_more_ranks_them(monkeypatch, figure):
    at = drawn(monkeypatch, figure, few(MANY_MODELS))
    assert [t.get_text() for t in at.axes[0].get_yticklabels()] == [
        f"model-{i:02d}" for i in range(MANY_MODELS)
    ]
    above = drawn(monkeypatch, figure, few(MANY_MODELS + 1))
    assert len(named_models(above, few(MANY_MODELS + 1))) <= 2 * NAMED


def test_up_to_the_threshold_the_pareto_scales_stay_linear(monkeypatch):
    [axis] = drawn(monkeypatch, pareto, few(MANY_MODELS)).axes
    assert axis.get_xscale() == axis.get_yscale() == "linear"
    [axis] = drawn(monkeypatch, pareto, few(MANY_MODELS + 1)).axes
    assert axis.get_xscale() == axis.get_yscale() == "log"


# --- values a log scale cannot show -------------------------------------------------------
# A large form's log axis shows only values above 0: a valid 0 (or below) is not drawn there,
# neither as a point nor clipped to the axis, and its model is named in the note.


def many_with(edits: dict, reports: list[dict] | None = None) -> list:
    """Above MANY_MODELS reports, the ones named in ``edits`` changed by their edit."""
    reports = reports or fx.many_reports(MANY_MODELS + 1)
    for report in reports:
        if report["model"] in edits:
            edits[report["model"]](report)
            validate_report(report)
    return fx.typed(reports)


def set_metric(name: str, value: float):
    return lambda report: report["metrics"].update({name: value})


def drawn_values(axis, which: int) -> np.ndarray:
    """Every finite data coordinate (0: x, 1: y) ``axis`` draws: points, lines and bands."""
    values = [offsets[:, which] for offsets in scatters(axis)]
    values += [line.get_xydata()[:, which] for line in axis.get_lines()]
    values += [
        c.get_paths()[0].vertices[:, which]
        for c in axis.collections
        if isinstance(c, PolyCollection)
    ]
    values = np.concatenate(values)
    return values[np.isfinite(values)]


def test_the_ranked_energy_figure_leaves_a_figure_of_0_off_its_log_scale_and_names_it(monkeypatch):
    reports = many_with({"model-0005": set_metric("wh_per_1000_queries", 0.0)})
    fig = drawn(monkeypatch, energy, reports)
    [group_c] = [
        a for a in fig.axes if a.get_title(loc="left").startswith("Rating group: text_generation/C")
    ]
    assert "1 at 0 or below, not on a log scale: model-0005" in group_c.get_title(loc="left")
    assert drawn_values(group_c, 1).min() > 0
    [points] = scatters(group_c)
    assert 1 not in points[:, 0]  # its rank (least energy) is kept, with no point
    assert not any("model-0005" in t.get_text() for t in group_c.texts)  # not a callout
    assert overlapping(fig) == []


def test_the_ranked_energy_band_says_where_its_interval_reaches_0_or_below(monkeypatch):
    def wide(report):
        report["metrics"]["trial_statistics"]["wh_per_1000_queries"]["ci_low"] = -0.47

    fig = drawn(monkeypatch, energy, many_with({"model-0005": wide}))
    [group_c] = [a for a in fig.axes if "text_generation/C" in a.get_title(loc="left")]
    assert (
        "interval of 1 reaches 0 or below: its band drawn from the axis' bottom (▼): model-0005"
    ) in group_c.get_title(loc="left")
    bottom = group_c.get_ylim()[0]
    assert drawn_values(group_c, 1).min() == pytest.approx(bottom) and bottom > 0
    [marker] = [m for m in scatters(group_c) if len(m) == 1]
    assert marker[0, 1] == pytest.approx(bottom)
    assert overlapping(fig) == []


def test_the_large_pareto_leaves_an_energy_per_token_of_0_off_and_names_it(monkeypatch):
    fig = drawn(monkeypatch, pareto, many_with({"model-0005": set_metric("joules_per_token", 0.0)}))
    [axis] = fig.axes
    assert "1 at 0 or below, not on a log scale: model-0005" in axis.get_title(loc="left")
    assert drawn_values(axis, 0).min() > 0 and drawn_values(axis, 1).min() > 0
    assert axis.get_xscale() == axis.get_yscale() == "log"
    assert overlapping(fig) == []


def test_the_phases_scatter_leaves_a_decode_of_0_off_and_names_it(monkeypatch):
    reports = fx.many_reports(MANY_MODELS + 1)
    reports[5] = fx.with_split(reports[5], 1.0, 0.0)  # valid: decode < resolution, both 0
    fig = drawn(monkeypatch, phases, many_with({}, reports))
    assert "1 at 0 or below, not on a log scale: model-0005" in fig.get_suptitle()
    for scatter in fig.axes[:2]:  # per query and per token
        assert drawn_values(scatter, 0).min() > 0 and drawn_values(scatter, 1).min() > 0
        assert not any("model-0005" in t.get_text() for t in scatter.texts)  # not a callout
    assert overlapping(fig) == []


def test_the_latency_distribution_leaves_a_latency_of_0_off_its_log_scale_and_names_it(monkeypatch):
    reports = [fx.served(f"model-{i:02d}", 0.5 + i * 0.1) for i in range(MANY_MODELS + 1)]
    reports[3]["latency"]["ttft_s"]["median"] = 0.0
    validate_report(reports[3])
    fig = drawn(monkeypatch, latency, fx.typed(reports))
    ttft = fig.axes[0]
    assert ttft.get_xscale() == "log"
    assert "1 at 0 or below, not on a log scale: model-03" in ttft.get_title()
    assert f"{MANY_MODELS} models" in ttft.get_title()
    assert drawn_values(ttft, 0).min() > 0
    assert overlapping(fig) == []


def test_a_log_scale_refuses_values_at_or_below_0():
    fig, axis = style.figure(3, 3)
    with pytest.raises(ValueError, match="above 0"):
        style.log_scale(axis, "y", [1.0, 0.0])
