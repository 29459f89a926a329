"""Campaign conveniences: the batch summary at the end of a workflow run, progress lines."""

import logging
import os

from energybench.publish.campaign import batch_summary
from energybench.run.progress import Progress
from energybench.run.files import write_json_atomic
from energybench.run.report import Report


def test_progress_logs_at_most_one_line_per_interval_and_the_end(caplog):
    now = [0.0]
    progress = Progress(
        "trial0.generate", 100, logging.getLogger("t"), every_s=5.0, clock=lambda: now[0]
    )
    with caplog.at_level(logging.INFO):
        for _ in range(100):
            now[0] += 0.3  # 30 s in all
            progress.advance(1)
    lines = [r.getMessage() for r in caplog.records]
    assert 5 <= len(lines) <= 7  # every ~5 s, and the last
    assert lines[-1].startswith("trial0.generate: 100/100 prompts, 30.0 s, about 0 s left")


def test_batch_summary_counts_ran_failed_with_cause_up_to_date_and_missing(tmp_path):
    import paper_fixtures as fx

    old = write_json_atomic(tmp_path / "old.json", fx.BASE)
    os.utime(old, (1000, 1000))
    new_ok = write_json_atomic(tmp_path / "ok.json", fx.BASE)
    provenance = fx.BASE["provenance"]
    broken = Report.failed(
        "broken", {}, RuntimeError("CUDA out of memory\nmore"), provenance
    ).to_dict()
    new_failed = write_json_atomic(tmp_path / "failed.json", broken)
    # A file that is no report (here: sections missing) is a failure that says why.
    partial = write_json_atomic(
        tmp_path / "partial.json",
        {"status": "succeeded", "error": None, "summary": {}, "energy": {}},
    )
    text = batch_summary(
        {"a": old, "b": new_ok, "c": new_failed, "d": tmp_path / "none.json", "e": partial},
        started_at=2000,
    )
    assert text.splitlines()[0] == (
        "BATCH SUMMARY: 5 model(s); ran 3, succeeded 1, failed 2, up to date 1, no report 1"
    )
    assert "  failed   c: RuntimeError: model 'broken': CUDA out of memory" in text.splitlines()
    assert (
        "  failed   e: unreadable report: does not follow the report schema"
        " (schema_version None), field schema_version: Field required" in text.splitlines()
    )
    assert text.splitlines()[-1].endswith("logs/benchmark/<model>.log): d")
    assert "  up to date a" in text.splitlines()


def test_merge_tables_of_several_result_directories_keeps_cells_verbatim(tmp_path):
    import pytest

    from energybench.cli import main
    from energybench.run.errors import ConfigError
    from energybench.publish.merge import merge_tables

    header = "model_name,gpu_energy_wh,error_message\n"
    for name, row in (("a", "org/x,1.5000,\n"), ("b", 'org/y,nan,"PARTIAL FAILURE: 1/3"\n')):
        (tmp_path / name / "tables").mkdir(parents=True)
        (tmp_path / name / "tables" / "master_results.csv").write_text(header + row)
    output = tmp_path / "merged" / "master_results.csv"
    assert main(["merge-tables", str(output), str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert output.read_text() == header + "org/x,1.5000,\norg/y,nan,PARTIAL FAILURE: 1/3\n"
    (tmp_path / "c.csv").write_text("model_name,other\n")
    with pytest.raises(ConfigError, match="other columns"):
        merge_tables(tmp_path / "m.csv", [output, tmp_path / "c.csv"])
    with pytest.raises(ConfigError, match="no table"):
        merge_tables(tmp_path / "m.csv", [tmp_path / "absent"])
