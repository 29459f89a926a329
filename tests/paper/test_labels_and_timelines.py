"""Every label and power timeline in one process, each drawn again only where what it shows
changed (energybench.publish.paper.labels_and_timelines)."""

import json

import pytest

import paper_fixtures as fx
from energybench.publish.paper import build, labels_and_timelines
from energybench.publish.paper.labels_and_timelines import (
    ModelFiles,
    OutputsDoNotMatch,
    draw_labels_and_timelines,
)
from energybench.publish.paper.stored import write_collection

CODE = {"label": "label code 1", "timeline": "timeline code 1"}
EVERY_MODEL = ["a", "b", "c", "d"]


class Workspace:
    """Four stored reports (three in one rating group), their ratings and their outputs."""

    def __init__(self, root):
        self.root = root
        self.reports = {
            "a": fx.gpu_report("a", 1.0),
            "b": fx.gpu_report("b", 3.0),
            "c": fx.gpu_report("c", 2.0, model_class="A"),
            "d": fx.gpu_report("d", 2.0),
        }
        self.files = {
            key: ModelFiles(
                [root / f"labels/{key}.svg", root / f"labels/{key}.png"],
                [root / f"runs/{key}/timeline.png", root / f"runs/{key}/timeline.pdf"],
            )
            for key in self.reports
        }
        self.record = root / "drawn.json"

    def store(self):
        """Write the reports, their collection and ratings, as the rules before the job do."""
        paths = fx.write_runs(self.root / "stored", list(self.reports.values()))
        write_collection(paths, self.root / "reports.jsonl")
        build.build_ratings(
            self.root / "reports.jsonl", self.root / "ratings.csv", self.root / "calibration.json"
        )

    def draw(self, code=CODE, store=True):
        if store:
            self.store()
        return draw_labels_and_timelines(
            self.root / "reports.jsonl", self.root / "ratings.csv", self.files, self.record, code
        )


@pytest.fixture
def drawn(tmp_path):
    workspace = Workspace(tmp_path)
    assert workspace.draw() == {"label": EVERY_MODEL, "timeline": EVERY_MODEL}
    return workspace


def test_the_first_build_draws_every_file_and_records_what_each_was_drawn_from(drawn):
    for files in drawn.files.values():
        for path in [*files.label, *files.timeline]:
            assert path.stat().st_size > 500, path
    record = json.loads(drawn.record.read_text())["fingerprints"]
    assert sorted(record) == EVERY_MODEL
    assert all(set(prints) == {"label", "timeline"} for prints in record.values())


def test_nothing_changed_draws_nothing(drawn):
    before = {p: p.read_bytes() for f in drawn.files.values() for p in [*f.label, *f.timeline]}
    assert drawn.draw() == {"label": [], "timeline": []}
    assert before == {p: p.read_bytes() for p in before}


def test_a_changed_report_redraws_its_own_files_and_the_labels_whose_stars_moved(drawn):
    # c is alone in its group (class A): the others are left as they are.
    drawn.reports["c"] = fx.gpu_report("c", 2.5, model_class="A")
    assert drawn.draw() == {"label": ["c"], "timeline": ["c"]}
    # b from 3 to 9 Wh widens its group's range: d (2 Wh) gets more stars, a keeps its five.
    stars_before = build.read_ratings(drawn.root / "ratings.csv").set_index("model")["stars"]
    drawn.reports["b"] = fx.gpu_report("b", 9.0)
    again = drawn.draw()
    stars = build.read_ratings(drawn.root / "ratings.csv").set_index("model")["stars"]
    assert (stars_before["a"], stars_before["d"]) == (stars["a"], 3) and stars["d"] > 3
    assert again == {"label": ["b", "d"], "timeline": ["b"]}


def test_a_missing_file_is_drawn_again_alone(drawn):
    drawn.files["b"].timeline[1].unlink()
    drawn.files["a"].label[0].unlink()
    assert drawn.draw() == {"label": ["a"], "timeline": ["b"]}
    assert drawn.files["b"].timeline[1].stat().st_size > 500


def test_changed_code_redraws_what_that_code_draws(drawn):
    assert drawn.draw({**CODE, "timeline": "timeline code 2"}) == {
        "label": [],
        "timeline": EVERY_MODEL,
    }


def test_a_changed_run_timeline_redraws_that_timeline(drawn):
    timeline = drawn.root / "stored/a/power_timeline.csv"
    timeline.write_text(timeline.read_text() + timeline.read_text().splitlines()[-1] + "\n")
    assert drawn.draw(store=False) == {"label": [], "timeline": ["a"]}


def test_an_unreadable_record_draws_everything_again(drawn):
    drawn.record.write_text("{not json")
    assert drawn.draw() == {"label": EVERY_MODEL, "timeline": EVERY_MODEL}


def test_outputs_that_do_not_match_the_collection_are_named(drawn):
    del drawn.files["c"]
    with pytest.raises(OutputsDoNotMatch, match=r"models without outputs \['c'\]"):
        drawn.draw()


def test_a_drawing_that_fails_names_the_model_and_records_nothing(drawn, monkeypatch):
    def broken(report_path, timeline_path, outputs):
        raise RuntimeError("cannot draw")

    drawn.reports["b"] = fx.gpu_report("b", 9.0)
    record = drawn.record.read_text()
    monkeypatch.setattr(labels_and_timelines, "build_run_figure", broken)
    with pytest.raises(RuntimeError) as failure:
        drawn.draw()
    assert "while drawing the timeline of model b" in "\n".join(failure.value.__notes__)
    assert drawn.record.read_text() == record
