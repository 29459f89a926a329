"""A model's attempts: listed with the published one marked, and an earlier one restored at
the user's word (energybench.job.history, `energybench attempts` and `energybench restore`)."""

import os
from contextlib import contextmanager

import pytest

from energybench.job import history, model_job
from energybench.job.gpus import GpuAllocationError
from energybench.job.model_job import run_model_job
from energybench.cli import main
from energybench.run.files import write_json_atomic
from energybench.publish.paper.stored import shown_document
from energybench.run.report import REPORT_NAME, Report


def attempt(model_dir, name, error=None, extra="x"):
    """An attempt directory holding a report (failed with ``error``, else a stand-in for a
    success) and one more file."""
    path = model_dir / history.HISTORY / name
    path.mkdir(parents=True)
    provenance = {
        "energybench_version": "0",
        "code_version": None,
        "config_hash": None,
        "runtime": {"name": "process"},
        "packages": {},
        "hardware": {},
        "started_at": name,
        "finished_at": name,
    }
    report = Report.failed("m", {}, RuntimeError(error or "unused"), provenance).to_dict()
    if error is None:
        report["status"] = "succeeded"
        report["error"] = None
    write_json_atomic(path / REPORT_NAME, report)
    (path / "power_timeline.csv").write_text(extra)
    return path


@pytest.fixture
def model_dir(tmp_path):
    model_dir = tmp_path / "runs/m"
    good = attempt(model_dir, "20260101T000000Z", extra="good")
    failed = attempt(model_dir, "20260102T000000Z", error="CUDA out of memory", extra="bad")
    history.publish(good, model_dir)
    history.publish(failed, model_dir)
    return model_dir


def test_attempts_are_listed_oldest_first_with_the_published_one_marked(model_dir, capsys):
    assert main(["attempts", str(model_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  20260101T000000Z  succeeded")
    assert lines[1].startswith("* 20260102T000000Z  failed")
    assert lines[1].endswith("RuntimeError: model 'm': CUDA out of memory")


def test_restoring_publishes_the_attempt_and_touches_its_report(model_dir, capsys):
    os.utime(model_dir / REPORT_NAME, (1000, 1000))
    assert main(["restore", str(model_dir), "20260101T000000Z"]) == 0
    assert "--forcerun" in capsys.readouterr().err
    assert Report.read(model_dir / REPORT_NAME).succeeded
    assert (model_dir / "power_timeline.csv").read_text() == "good"
    assert (model_dir / REPORT_NAME).stat().st_mtime > 1000  # what is made of it is remade
    assert len(history.attempts(model_dir)) == 2  # nothing deleted


def test_restoring_an_unknown_attempt_names_the_ones_there(model_dir, capsys):
    assert main(["restore", str(model_dir), "2026"]) == 2
    assert "(attempts: 20260101T000000Z, 20260102T000000Z)" in capsys.readouterr().err
    assert not Report.read(model_dir / REPORT_NAME).succeeded


def test_a_report_copied_without_its_links_is_linked_again_not_kept_twice(model_dir):
    published = model_dir / REPORT_NAME
    copy = published.read_bytes()
    published.unlink()
    published.write_bytes(copy)  # as `cp -r` or rsync without -H leave it
    os.utime(published, (2000, 2000))
    assert history.keep_stored_reports(model_dir.parent) == []
    assert published.stat().st_nlink == 2 and published.stat().st_mtime == 2000
    assert len(history.attempts(model_dir)) == 2


def test_a_report_no_attempt_holds_is_kept_in_the_history(model_dir):
    published = model_dir / REPORT_NAME
    published.unlink()
    published.write_text("{}")  # stored by an older version, without a history
    (kept,) = history.keep_stored_reports(model_dir.parent)
    assert kept.name.endswith(history.KEPT_SUFFIX) and len(history.attempts(model_dir)) == 3


def hand_copied_report(model_dir):
    """The published report replaced by one no attempt holds (stored by an older version, or
    copied in by hand)."""
    published = model_dir / REPORT_NAME
    published.unlink()
    published.write_text('{"copied": "by hand"}')
    return published


def test_restoring_over_a_report_no_attempt_holds_keeps_it(model_dir):
    hand_copied_report(model_dir)
    assert main(["restore", str(model_dir), "20260101T000000Z"]) == 0
    (kept,) = [a for a in history.attempts(model_dir) if a.name.endswith(history.KEPT_SUFFIX)]
    assert (kept / REPORT_NAME).read_text() == '{"copied": "by hand"}'


def test_a_job_run_outside_the_workflow_keeps_a_report_no_attempt_holds(model_dir, monkeypatch):
    """`energybench benchmark ...` pasted from Snakemake's output: no `onstart` kept the
    report first. The job fails at once here (no GPU to take), and publishes its report."""
    monkeypatch.setattr(model_job, "allocate_gpus", no_gpu_to_take)
    hand_copied_report(model_dir)
    run_model_job(
        {"model": "m"}, str(model_dir / REPORT_NAME), str(model_dir.parent / "m.log"), gpus=1
    )
    (kept,) = [a for a in history.attempts(model_dir) if a.name.endswith(history.KEPT_SUFFIX)]
    assert (kept / REPORT_NAME).read_text() == '{"copied": "by hand"}'
    assert Report.read(model_dir / REPORT_NAME).error.type == "GpuAllocationError"


@contextmanager
def no_gpu_to_take(count):
    raise GpuAllocationError(f"this job needs {count} GPU(s) but none is available")
    yield


def test_with_no_report_published_the_newest_good_attempt_is_shown_with_a_note(model_dir):
    """An interrupted rerun unpublished the report (and its attempt was discarded)."""
    history.clear_published(model_dir)
    attempt, report = history.unpublished_attempt(model_dir)
    assert attempt.name == "20260101T000000Z" and report.succeeded
    assert history.published_path(attempt / REPORT_NAME) == model_dir / REPORT_NAME
    shown, problem, note = shown_document(model_dir / REPORT_NAME)
    assert problem is None and shown["status"] == "succeeded"
    assert note.startswith(
        "shown: the kept attempt history/20260101T000000Z; no report is published"
    )
    assert not (model_dir / REPORT_NAME).exists()  # the next run of the workflow redoes it
