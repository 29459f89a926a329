"""End-to-end: paper mode (`snakemake paper --config paper=true`) and `snakemake --report`
from stored reports alone (a copied results/runs/, no models, no benchmark)."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

import paper_fixtures as fx
from conftest import copy_workflow
from test_workflow import planned_jobs, snakemake

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "1"]

pytestmark = pytest.mark.e2e


def paper(workdir, *args: str, config: tuple[str, ...] = ()) -> str:
    """`snakemake paper --config paper=true` as a user types it (no --resources: no benchmark
    needs one), with more ``config`` settings (a second --config would replace the first)."""
    command = [*SNAKEMAKE, "paper", *args, "--config", "paper=true", *config]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"snakemake failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def planned_rules(workdir) -> list[str]:
    plan = paper(workdir, "--dry-run")
    return sorted(re.findall(r"^(?:local)?rule (\w+):", plan, re.MULTILINE))


MODELS = ["fast", "oom", "slow", "unreadable"]
TABLES = [
    "models.csv",
    "trials.csv",
    "phases.csv",
    "latency.csv",
    "checks.csv",
    "models.tex",
    "ratings.csv",
    "rating_calibration.json",
]
FIGURES = [
    "energy_per_1000_queries",
    "energy_per_token_vs_throughput",
    "prefill_decode",
    "latency_percentiles",
]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """The workflow with only a copied results/runs/ (one report malformed), after `paper`."""
    workdir = copy_workflow(tmp_path_factory.mktemp("paper"))
    runs = workdir / "results/runs"
    fx.write_runs(runs, [fx.gpu_report("fast", 1.0), fx.served("slow", 3.0), fx.failed("oom")])
    (runs / "unreadable").mkdir()
    (runs / "unreadable/benchmark_report.json").write_text('{"schema_version": "0.1"}')
    (runs / "not a key").mkdir()  # a folder no model key can name: left out, named
    shutil.copy(runs / "fast/benchmark_report.json", runs / "not a key")
    return workdir, paper(workdir)


def test_paper_rebuilds_everything_from_stored_reports_without_a_benchmark(rebuilt):
    workdir, output = rebuilt
    assert "rule benchmark" not in output
    assert "skipping results/runs/not a key/benchmark_report.json" in output
    for name in TABLES:
        assert (workdir / "results/tables" / name).stat().st_size > 0, name
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (workdir / f"results/figures/{name}.{ext}").stat().st_size > 1000
    for model in MODELS:
        for ext in ("png", "pdf"):
            assert (workdir / f"results/figures/runs/{model}/power_timeline.{ext}").exists()
        for ext in ("png", "svg"):
            assert (workdir / f"results/labels/{model}.{ext}").exists()
    ratings = (workdir / "results/tables/ratings.csv").read_text()
    assert "fast,text_generation,B,text_generation/B,1.0,5,True" in ratings
    assert "run failed: model oom: out of memory" in ratings
    for log in ("paper/tables.log", "aes_master_results.log"):  # AES's table reads them too
        text = (workdir / "logs" / log).read_text()
        assert "results/runs/unreadable/benchmark_report.json" in text and "schema" in text
    assert "fast" in (workdir / "results/tables/master_results.csv").read_text()
    index = (workdir / "results/site/index.html").read_text()  # the site, from the same reports
    for model in ("fast", "oom", "slow"):
        assert f'href="models/{model}.html"' in index
    assert (workdir / "results/site/labels/fast.svg").exists()
    assert "results/runs/unreadable/benchmark_report.json</code>: does not follow" in index


def test_the_paper_target_outside_paper_mode_stops_before_any_benchmark(rebuilt):
    result = snakemake(rebuilt[0], "--dry-run", "paper", check=False)
    assert result.returncode == 1
    assert "--config paper=true" in result.stderr
    assert "rule benchmark" not in result.stdout + result.stderr


def test_paper_mode_plans_no_benchmark_for_any_target_where_a_normal_run_plans_them(rebuilt):
    """Paper mode removes the benchmark rules whatever is asked for (the default target too,
    every job forced); without it, the same checkout plans a benchmark for each selected
    model."""
    workdir, _ = rebuilt
    for target in ([], ["all"], ["paper"]):
        jobs = planned_jobs(workdir, *target, "--forceall", "--config", "paper=true")
        assert "reports" in jobs and not [
            j for j in jobs if j.startswith(("benchmark", "tiny_model"))
        ], target
    selected = yaml.safe_load((workdir / "config/models.yaml").read_text())["models"]
    assert [job for job in planned_jobs(workdir) if job.startswith("benchmark")] == sorted(
        f"benchmark:{model}" for model in selected
    )


def test_newer_benchmark_inputs_start_no_benchmark(rebuilt, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(rebuilt[0], workdir, symlinks=True)
    # Changed, not just touched: Snakemake compares the content of inputs whose time moved.
    for path in [
        *(workdir / "data").glob("*.jsonl"),
        workdir / "src/energybench/run/benchmark.py",
        workdir / "config/models.yaml",
    ]:
        with open(path, "a") as changed:
            changed.write("\n" if path.suffix == ".jsonl" else "# newer\n")
    assert planned_rules(workdir) == []


def test_editing_one_figure_module_remakes_only_that_figure_and_the_site_showing_it(
    rebuilt, tmp_path
):
    workdir = tmp_path / "copy"
    shutil.copytree(rebuilt[0], workdir, symlinks=True)
    with open(workdir / "src/energybench/publish/paper/figures/pareto.py", "a") as module:
        module.write("# edited\n")
    assert planned_rules(workdir) == ["figure_pareto", "paper", "site"]


def test_a_comparison_figure_rewritten_unchanged_rebuilds_no_site(rebuilt, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(rebuilt[0], workdir, symlinks=True)
    figure = workdir / "results/figures/energy_per_token_vs_throughput.png"
    figure.write_bytes(figure.read_bytes())  # newer, same bytes: Snakemake compares checksums
    assert planned_rules(workdir) == []
    site = workdir / "results/site"
    assert (site / "figures/comparison" / figure.name).read_bytes() == figure.read_bytes()
    assert 'id="methodology-link"' in (site / "index.html").read_text()
    assert "Energy figures: what each number is" in (site / "methodology.html").read_text()


def test_one_changed_report_redraws_its_own_label_and_timeline_and_the_shared_outputs(
    rebuilt, tmp_path
):
    workdir = tmp_path / "copy"
    shutil.copytree(rebuilt[0], workdir, symlinks=True)
    report = workdir / "results/runs/slow/benchmark_report.json"
    report.touch()  # touched, not changed: nothing to do
    assert planned_rules(workdir) == []
    document = json.loads(report.read_text())
    document["provenance"]["finished_at"] = "2026-12-01T10:00:00+00:00"  # a label shows it
    report.write_text(json.dumps(document))
    label_before = (workdir / "results/labels/slow.svg").read_bytes()
    assert planned_rules(workdir) == sorted(
        [
            "reports",
            "ratings",
            "tables",
            "aes_master_results",
            "labels_and_timelines",
            "site",
            "paper",
            *(f"figure_{module}" for module in ("energy", "pareto", "phases", "latency")),
        ]
    )
    paper(workdir)
    drawn = (workdir / "logs/paper/labels_and_timelines.log").read_text()
    assert "drew 1 labels (slow) and 1 power timelines (slow); 3 models unchanged" in drawn
    assert (workdir / "results/labels/slow.svg").read_bytes() != label_before


def test_html_report_shows_every_output_with_its_caption(rebuilt):
    workdir, _ = rebuilt
    paper(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text()
    for category in ("Comparisons", "Per model", "Measurement checks"):
        assert category in html
    for name in [*TABLES[:-1], *(f"{f}.png" for f in FIGURES)]:
        assert name in html, name
    for model in MODELS:
        assert f"{model}.png" in html
    for caption in sorted((workdir / "report").rglob("*.rst")):
        first_words = " ".join(caption.read_text().split()[:4])
        assert first_words in html, caption


def test_a_frozen_calibration_file_rerates_from_the_stored_reports(rebuilt, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(rebuilt[0], workdir, symlinks=True)
    (workdir / "frozen.json").write_text(
        json.dumps(
            {
                "source": "test freeze",
                "groups": {
                    "text_generation/B": {
                        "min_wh_per_1000_queries": 0.0,
                        "max_wh_per_1000_queries": 5.0,
                    }
                },
            }
        )
    )
    plan = paper(workdir, "--dry-run", config=('ratings={"calibration_file": "frozen.json"}',))
    assert re.search(r"rule ratings:\n\s+input: [^\n]*frozen\.json", plan), plan
