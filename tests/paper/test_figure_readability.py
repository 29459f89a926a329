"""Figures a reader can compare and read (issue 24, item 5): the energy figure's panels on one
scale; model keys of up to 100 characters shortened in figures and labels, their start and
end kept, and listed in full."""

import paper_fixtures as fx
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text

from energybench.publish.paper import labels, ratings, style
from energybench.publish.paper.figures import energy, pareto
from energybench.publish.paper.palette import contrast_ratio

LONG = "org-family-" + "x" * 70 + "-instruct-v0.3-q4"  # 98 characters, a valid key


def test_a_long_key_keeps_its_start_and_end_and_a_short_one_is_whole():
    assert style.short_key("tiny-llama-2l") == "tiny-llama-2l"
    shown = style.short_key(LONG)
    assert len(shown) == style.KEY_WIDTH and "…" in shown
    assert shown.startswith("org-family-") and shown.endswith("instruct-v0.3-q4"[-12:])


def test_a_figure_shows_a_long_key_shortened_and_lists_it_in_full(monkeypatch):
    reports = fx.typed([fx.gpu_report(LONG, 1.0), fx.gpu_report("short", 2.0)])
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    energy.draw(reports, ratings.rate(reports)[0], [])
    [fig] = figures
    [axis] = fig.axes
    assert [t.get_text() for t in axis.get_yticklabels()] == [style.short_key(LONG), "short"]
    notes = [t.get_text() for t in fig.findobj(Text) if LONG in t.get_text()]
    assert notes == [f"Model keys shortened here, in full:\n{style.short_key(LONG)}: {LONG}"]
    style.plt.close("all")


def test_a_label_shows_a_long_key_in_full_in_its_small_print():
    lines = labels.full_key(LONG)
    assert all(len(line) <= 52 for line in lines)
    assert "".join(lines).replace(" ", "") == f"modelkey:{LONG}"
    assert labels.full_key("short") == []


def test_the_energy_figures_panels_share_one_scale(monkeypatch):
    reports = fx.typed(
        [
            fx.gpu_report("a1", 0.046, model_class="A"),
            fx.gpu_report("a2", 0.05, model_class="A"),
            fx.gpu_report("b1", 0.078),
            fx.gpu_report("b2", 0.08),
        ]
    )
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    energy.draw(reports, ratings.rate(reports)[0], [])
    group_a, group_b = figures[0].axes
    assert group_a.get_xlim() == group_b.get_xlim()
    assert group_a.get_xlim()[1] > max(r.metrics.total_wh_per_1000_queries for r in reports)
    style.plt.close("all")


def test_the_pareto_legend_shows_a_front_of_one_model_as_drawn(monkeypatch):
    report = fx.gpu_report("only", 1.0)
    report["summary"]["completion_tokens_per_second"] = 50.0
    reports = fx.typed([report])
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    pareto.draw(reports, [])
    [axis] = figures[0].axes
    [front] = [line for line in axis.get_lines() if line.get_label() == "Pareto front"]
    assert len(front.get_xdata()) == 1 and front.get_marker() == "o"  # a ring, not no line
    assert "Pareto front" in [t.get_text() for t in axis.get_legend().get_texts()]
    style.plt.close("all")


def drawn_label(monkeypatch, report: dict, stars) -> list[Text]:
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    [typed] = fx.typed([report])
    labels.draw(
        typed,
        {
            "model": typed.model,
            "stars": stars,
            "rated": stars is not None,
            "group": "text_generation/B",
            "out_of_calibration_range": False,
            "unrated_reason": None if stars else "why",
            "note": None,
            "gpu_wh_per_1000_queries": 1.0,
        },
        [],
    )
    return [t for t in figures[0].findobj(Text) if t.get_text().strip()]


@pytest.mark.parametrize("stars", [5, 1])
def test_a_label_reads_like_ai_energy_scores(monkeypatch, stars):
    """A header bar, one star colour whatever the rating, the task in words, no type under
    SMALL_PRINT points; every text on it stands 4.5:1 against its ground."""
    texts = drawn_label(monkeypatch, fx.gpu_report("m", 1.0), stars)
    by_text = {t.get_text(): t for t in texts}
    header = by_text["Energy label"]
    assert contrast_ratio(to_hex(header.get_color()), style.LABEL_COLOR) >= 4.5
    assert by_text["★" * stars + "☆" * (5 - stars)].get_color() == style.LABEL_COLOR
    assert "Text generation, class B" in by_text
    assert min(t.get_fontsize() for t in texts) >= labels.SMALL_PRINT
    for text in texts:
        if text is not header:
            assert contrast_ratio(to_hex(text.get_color()), "#FFFFFF") >= 4.5, text.get_text()
    style.plt.close("all")


def test_a_label_links_a_hub_model_to_its_page_and_names_its_rating_group_in_words(
    monkeypatch, tmp_path
):
    hub = fx.gpu_report("m", 1.0)
    hub["config"]["id"] = "org/model-7b"
    texts = drawn_label(monkeypatch, hub, 4)
    [link] = [t for t in texts if t.get_url()]
    assert link.get_url() == "https://huggingface.co/org/model-7b"
    assert link.get_text() == "huggingface.co/org/model-7b"
    assert link.get_fontsize() >= labels.SMALL_PRINT
    assert contrast_ratio(to_hex(link.get_color()), "#FFFFFF") >= 4.5
    assert "rated within Text generation, class B" in [t.get_text() for t in texts]
    # In the SVG, a link a reader can follow.
    [typed] = fx.typed([hub])
    rating = {
        "model": "m",
        "stars": 4,
        "rated": True,
        "group": "text_generation/B",
        "out_of_calibration_range": False,
        "unrated_reason": None,
        "note": None,
        "gpu_wh_per_1000_queries": 1.0,
    }
    monkeypatch.undo()
    labels.draw(typed, rating, [tmp_path / "m.svg"])
    assert 'xlink:href="https://huggingface.co/org/model-7b"' in (tmp_path / "m.svg").read_text()
    style.plt.close("all")


def test_a_label_of_a_local_model_has_no_link_line(monkeypatch):
    local = fx.gpu_report("m", 1.0)
    local["config"]["id"] = "/models/m"
    assert not [t for t in drawn_label(monkeypatch, local, 4) if t.get_url()]
    style.plt.close("all")


def test_the_large_prefill_decode_figure_lists_the_long_keys_it_names_in_full(monkeypatch):
    from energybench.publish.paper.figures import phases
    from energybench.publish.paper.figures.selection import MANY_MODELS, NAMED

    reports = fx.many_reports(MANY_MODELS + 1)
    for number, report in enumerate(reports):
        report["model"] = report["config"]["model"] = f"{LONG[:80]}-{number:04d}"
    figures = []
    monkeypatch.setattr(style, "save", lambda fig, outputs: figures.append(fig))
    phases.draw(fx.typed(reports), [])
    [note] = [
        t.get_text()
        for t in figures[0].texts
        if t.get_text().startswith("Model keys shortened here")
    ]
    named = {t.get_text().split(":")[0] for axis in figures[0].axes[:2] for t in axis.texts}
    assert len(named) == 2 * NAMED
    for shown in named:  # each name a callout shows, with its key in full
        [line] = [line for line in note.splitlines() if line.startswith(f"{shown}: ")]
        assert line.removeprefix(f"{shown}: ").startswith(LONG[:80])
    style.plt.close("all")


def test_the_longest_label_keeps_its_link_line_clear_of_the_small_print(monkeypatch):
    import itertools

    report = fx.gpu_report(LONG, 1.0)
    report["config"].update(id="org/" + "L" * 90, backend="a-backend-with-a-long-name")
    report["provenance"]["meters"]["meters"]["gpu"] = {
        "meter": "nvml",
        "component": "gpu",
        "devices": [
            {"device": f"gpu{i}", "name": "NVIDIA H100 80GB HBM3 with a long name"}
            for i in range(8)
        ],
    }
    texts = drawn_label(monkeypatch, report, 4)
    texts[0].figure.canvas.draw()  # laid out as saved
    renderer = texts[0].figure.canvas.get_renderer()
    boxes = [(t.get_text()[:30], t.get_window_extent(renderer)) for t in texts]
    assert [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ] == []
    assert any(t.get_url() for t in texts)
    style.plt.close("all")
