"""The AI Energy Score contract on the way out: AES's own readers (copied unchanged into
tests/data/aes/) read every kind of report and table the pipeline writes, and derive the
figures we wrote."""

import csv
import json
import math
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from energybench.aes import master_results, submission
from energybench.run import report_keys
from energybench.aes.identity import identity
from energybench.plan.config import load_yaml, resolve_model
from energybench.run.meters import ComponentEnergy, WindowMeasurement
from energybench.publish.paper.build import build_master_results
from energybench.job import history
from energybench.publish.paper.stored import shown_run, write_collection
from energybench.run.report import Report, read_report, write_report
from energybench.run.report_builder import energy_section, metrics_section

AES_DIR = Path(__file__).parents[1] / "data" / "aes"


@pytest.fixture(scope="module")
def aes():
    """AES's reader modules, imported from tests/data/aes."""
    sys.path.insert(0, str(AES_DIR))
    try:
        import results_aggregator
        import summarize_gpu_wh

        yield results_aggregator, summarize_gpu_wh
    finally:
        sys.path.remove(str(AES_DIR))


@pytest.fixture(scope="module")
def cpu_report(tmp_path_factory):
    """A real run of a tiny model on the CPU: no GPU, so its GPU energy is unknown."""
    from energybench.run import benchmark
    from energybench.job.tiny import build_tiny_model

    tmp = tmp_path_factory.mktemp("cpu")
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    run_config = resolve_model(
        "tiny-cpu",
        {
            "id": str(build_tiny_model(tmp / "model")),
            "num_prompts": 3,
            "batch_size": 1,
            "max_new_tokens": 4,
            "warmup_prompts": 0,
            "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
        },
        config["defaults"],
        {**config["measurement"], "idle_seconds": 0},
    )
    assert benchmark.run(run_config, tmp / "run" / "benchmark_report.json") == 0
    return read_report(tmp / "run" / "benchmark_report.json")


def with_gpu(report, gpu_joules=7200.0, failed_prompts=0):
    """``report`` as if its window had been metered on a GPU (and ``failed_prompts`` of its
    prompts had failed), its energy and metrics recomputed by the pipeline's own functions."""
    duration = report["summary"]["total_duration_seconds"]
    window = WindowMeasurement(
        "t0",
        0.0,
        duration,
        {
            "gpu": ComponentEnergy("gpu", gpu_joules, "nvml", devices=["gpu0"]),
            "cpu": ComponentEnergy("cpu", 36.0, "rapl", devices=["package-0"]),
            "ram": ComponentEnergy("ram", 3.6, "estimate", estimated=True, reason="no RAPL dram"),
        },
    )
    summary = dict(report["summary"])
    summary["failed_prompts"] = failed_prompts
    summary["successful_prompts"] -= failed_prompts
    energy = energy_section([window], None, {})
    metrics = metrics_section([summary], energy, 400.0)
    trials = [{**t, "successful_prompts": summary["successful_prompts"]} for t in report["trials"]]
    return {
        **report,
        "summary": summary,
        "energy": energy.to_dict(),
        "metrics": metrics.to_dict(),
        "trials": trials,
    }


@pytest.fixture(scope="module")
def reports(cpu_report):
    """Every kind of report: GPU, CPU-only, partly failed, failed."""
    return {
        "gpu": {**with_gpu(cpu_report), "model": "tiny-gpu"},
        "cpu": cpu_report,
        "partial": {**with_gpu(cpu_report, failed_prompts=1), "model": "tiny-partial"},
        "failed": Report.failed(
            "broken",
            cpu_report["config"],
            RuntimeError("CUDA out of memory"),
            cpu_report["provenance"],
        ).to_dict(),
    }


@pytest.fixture(scope="module")
def written(reports, tmp_path_factory):
    """Each report written by the pipeline, one run directory each."""
    root = tmp_path_factory.mktemp("runs")
    paths = {}
    for kind, report in reports.items():
        paths[kind] = write_report(root / kind / "benchmark_report.json", report)
    return paths


def aes_config(results_aggregator, report):
    names = identity(report["config"], report["model"])
    return results_aggregator.ModelConfig(
        model_id=names["model_name"],
        priority=1,
        model_class=names["model_class"],
        task=names["task"],
        reasoning_state=names["reasoning_state"],
        chat_template="",
    )


def strict_json(text):
    """``text`` parsed as a strict parser (JSON.parse, jq) would: NaN or Infinity raise."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_unknown_aes_figures_are_null_in_the_strict_json_file(written):
    raw = strict_json(written["cpu"].read_text())
    assert raw["energy"]["gpu_energy_wh"] is None and raw["energy"]["energy_wh"] is None
    assert raw["energy"]["components"]["gpu"]["gross_joules"] is None
    assert raw["energy"]["components"]["gpu"]["reason"]  # the reason beside the null
    failed = strict_json(written["failed"].read_text())
    assert failed["summary"]["total_duration_seconds"] is None
    for kind in ("gpu", "partial"):
        strict_json(written[kind].read_text())


def test_a_report_of_an_earlier_version_with_nan_reads_as_unknown(written, tmp_path):
    """Reports written before strict JSON carried NaN under AES's keys: still read, as None."""
    raw = json.loads(written["cpu"].read_text())
    raw["energy"]["gpu_energy_wh"] = raw["energy"]["energy_wh"] = math.nan
    old = tmp_path / "benchmark_report.json"
    old.write_text(json.dumps(raw))
    again = read_report(old)
    assert again["energy"]["gpu_energy_wh"] is None and again["energy"]["energy_wh"] is None


def test_reports_carry_aes_energy_keys(written, reports):
    energy = json.loads(written["gpu"].read_text())["energy"]
    assert energy["gpu_energy_wh"] == pytest.approx(2.0)  # 7200 J
    assert energy["energy_wh"] == energy["gpu_energy_wh"]  # AES: energy_wh is GPU energy
    assert energy["energy_kwh"] == pytest.approx(0.002)
    assert energy["emissions_g_co2eq"] == pytest.approx(
        reports["gpu"]["metrics"]["co2_emissions_g"]
    )
    assert energy["emissions_kg_co2eq"] == pytest.approx(energy["emissions_g_co2eq"] / 1000)
    assert energy["duration_seconds"] == reports["gpu"]["summary"]["total_duration_seconds"]


@pytest.mark.parametrize("kind", ["gpu", "partial"])
def test_aes_summarizer_reads_every_submittable_report(aes, written, kind, capsys, monkeypatch):
    """AES's summarize_gpu_wh.py on a run directory: no error, and its files are ours, byte
    for byte."""
    _, summarize_gpu_wh = aes
    run_dir = written[kind].parent
    ours = submission.submission_files(Report.read(written[kind]))
    monkeypatch.setattr(sys, "argv", ["summarize_gpu_wh.py", str(run_dir)])
    summarize_gpu_wh.main()
    assert (run_dir / "GPU_ENERGY_WH.txt").read_text() == ours["GPU_ENERGY_WH.txt"]
    theirs = (run_dir / "GPU_ENERGY_SUMMARY.json").read_text()
    assert theirs == ours["GPU_ENERGY_SUMMARY.json"]
    assert strict_json(theirs)["format"] == "ai_energy_benchmarks"


@pytest.mark.parametrize("kind", ["cpu", "failed"])
def test_unknown_gpu_energy_is_never_a_number_in_aes_files(aes, written, kind, monkeypatch):
    """A run whose GPU energy is unknown: our two files say nan / null (strict JSON), never
    0.00; it is no submission (the bundle leaves it out), and AES's summarizer, handed the
    report, stops on the null rather than inventing a figure."""
    _, summarize_gpu_wh = aes
    ours = submission.submission_files(Report.read(written[kind]))
    assert ours["GPU_ENERGY_WH.txt"] == "nan\n"
    summary = strict_json(ours["GPU_ENERGY_SUMMARY.json"])
    assert summary["total"] is None and summary["decode_wh"] is None
    assert submission.skip_reason(Report.read(written[kind]))
    monkeypatch.setattr(sys, "argv", ["summarize_gpu_wh.py", str(written[kind].parent)])
    with pytest.raises(TypeError):
        summarize_gpu_wh.main()


def as_aes_reads_unknowns(path):
    """A report with its unknown figures under AES's keys as NaN: the float AES's aggregator
    computes with where a figure is missing (our file says null, which it cannot compare)."""
    report = json.loads(path.read_text())
    for section, keys in (
        ("summary", report_keys.SUMMARY_KEYS),
        ("energy", report_keys.ENERGY_KEYS),
    ):
        report[section] = {
            k: math.nan if k in keys and v is None else v for k, v in report[section].items()
        }
    return report


def test_aes_aggregator_derives_our_master_results(aes, written, reports, tmp_path):
    """AES's ResultsAggregator on each report (add_failed_result for a failed run, as its
    batch runner does) writes, column by column, what our master_results.csv has."""
    results_aggregator, _ = aes
    theirs_path = tmp_path / "aes" / "master_results.csv"
    aggregator = results_aggregator.ResultsAggregator(str(theirs_path))
    for kind in written:
        report = read_report(written[kind])
        config = aes_config(results_aggregator, report)
        if report["status"] == "failed":
            error = report["error"]
            aggregator.add_failed_result(config, f"{error['type']}: {error['message']}")
        else:
            aggregator.add_result(config, as_aes_reads_unknowns(written[kind]))
    ours_path = build_master_results(
        write_collection(written.values(), tmp_path / "reports.jsonl"),
        tmp_path / "ours" / "master_results.csv",
    )
    theirs = list(csv.DictReader(theirs_path.open()))
    ours = list(csv.DictReader(ours_path.open()))
    assert list(ours[0]) == results_aggregator.ResultsAggregator.COLUMNS
    derived_from_gpu = {"wh_per_1000_queries", "tokens_per_joule", "avg_energy_per_prompt_wh"}
    for kind, mine, aes_row in zip(written, ours, theirs):
        for column in master_results.COLUMNS:
            if column == "timestamp":  # AES stamps the aggregation time, we the run's end
                continue
            if kind == "cpu" and column in derived_from_gpu:
                # GPU energy unknown: AES's guards write 0, we write nan (docs/aes.md)
                assert (mine[column], aes_row[column]) == ("nan", "0.0000"), column
            else:
                assert mine[column] == aes_row[column], (kind, column)
    assert ours[0]["tokens_per_joule"] == (
        f"{reports['gpu']['summary']['total_tokens'] / 7200.0:.4f}"
    )  # all tokens / GPU J
    # The 3 prompts, in every pass of a generate window repeated until long enough.
    prompts = reports["partial"]["summary"]["total_prompts"]
    assert prompts % 3 == 0
    assert ours[2]["error_message"].startswith(f"PARTIAL FAILURE: 1/{prompts} prompts failed")
    assert ours[1]["gpu_energy_wh"] == "nan" and ours[1]["error_message"] == ""


def test_aes_summary_reads_our_master_results(aes, written, tmp_path):
    """AES's get_results_summary over our table: no error, totals of the rows without error."""
    results_aggregator, _ = aes
    path = build_master_results(
        write_collection(
            [written["gpu"], written["partial"], written["failed"]], tmp_path / "reports.jsonl"
        ),
        tmp_path / "master_results.csv",
    )
    summary = results_aggregator.ResultsAggregator(str(path)).get_results_summary()
    gpu = read_report(written["gpu"])
    assert summary["total_runs"] == 3 and summary["successful_runs"] == 1
    assert summary["total_tokens"] == gpu["summary"]["total_tokens"]
    assert summary["total_energy_wh"] == pytest.approx(2.0)
    with_cpu = build_master_results(
        write_collection([written["cpu"]], tmp_path / "cpu" / "reports.jsonl"),
        tmp_path / "cpu" / "master_results.csv",
    )
    summary = results_aggregator.ResultsAggregator(str(with_cpu)).get_results_summary()
    assert math.isnan(summary["total_energy_wh"])  # unknown stays unknown, never 0


def test_submission_bundle_holds_runs_with_gpu_energy_and_says_why_others_are_out(
    written, tmp_path
):
    import zipfile

    runs = [shown_run(path) for path in written.values()]
    manifest = submission.bundle(runs, tmp_path / "submission.zip")
    assert sorted(manifest["included"]) == ["tiny-gpu", "tiny-partial"] and not manifest["notes"]
    assert manifest["skipped"]["tiny-cpu"].startswith("GPU energy unknown: ")
    assert manifest["skipped"]["broken"] == "run failed: model 'broken': CUDA out of memory"
    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert archive.read("tiny-gpu/GPU_ENERGY_WH.txt") == b"2.00\n"
        assert archive.read("tiny-gpu/benchmark_report.json") == written["gpu"].read_bytes()
        assert json.loads(archive.read("manifest.json")) == manifest
        assert not any(name.startswith("tiny-cpu/") for name in archive.namelist())


def test_a_failed_rerun_gives_every_aes_file_the_shown_attempt_and_its_note(reports, tmp_path):
    """After a success, a failed rerun is published; master_results.csv shows the earlier
    attempt, and so do AES's run files and the bundle, whose manifest says why."""
    model_dir = tmp_path / "runs/tiny-gpu"
    for name, report in (
        ("20260101T000000Z", reports["gpu"]),
        ("20260102T000000Z", {**reports["failed"], "model": "tiny-gpu"}),
    ):
        attempt = model_dir / history.HISTORY / name
        write_report(attempt / "benchmark_report.json", report)
        history.publish(attempt, model_dir)
    published = model_dir / "benchmark_report.json"
    report, shown = shown_run(published)
    assert shown == model_dir / history.HISTORY / "20260101T000000Z/benchmark_report.json"
    assert "shown: the earlier attempt history/20260101T000000Z" in report.note
    submission.write_run_files(report, model_dir)
    assert (model_dir / "GPU_ENERGY_WH.txt").read_text() == "2.00\n"
    rows = list(
        csv.DictReader(
            build_master_results(
                write_collection([published], tmp_path / "reports.jsonl"),
                tmp_path / "master_results.csv",
            ).open()
        )
    )
    assert float(rows[0]["gpu_energy_wh"]) == pytest.approx(2.0)
    manifest = submission.bundle([(report, shown)], tmp_path / "submission.zip")
    assert manifest["included"] == ["tiny-gpu"] and manifest["notes"] == {"tiny-gpu": report.note}
    import zipfile

    with zipfile.ZipFile(tmp_path / "submission.zip") as archive:
        assert archive.read("tiny-gpu/benchmark_report.json") == shown.read_bytes()
