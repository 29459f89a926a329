"""The static leaderboard site: built from synthetic reports (derived from a real one), checked
as files, then driven in Debian's headless Chromium through Selenium.

The browser tests need `chromium`, `chromedriver` (.ci/install-browser.sh) and Selenium;
they skip on a laptop without them and fail under CI=true.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPO_ROOT, require
from energybench.publish.paper.links import hub_url
from energybench.publish.paper.palette import COMPONENT_COLORS, STAR_COLORS
from energybench.publish.paper.stored import write_collection
from energybench.run.report import Report, validate_report
from energybench.publish.site import build_site
from energybench.publish.site.build import flatten, format_count, format_number
from energybench.publish.site.entries import collect, model_entry, page_name, read_ratings

SAMPLE = json.loads((REPO_ROOT / "tests/data/site_report.json").read_text())
TOTAL_STATISTICS = SAMPLE["metrics"]["trial_statistics"]["total_wh_per_1000_queries"]
# Text that would run script if any page put it into markup unescaped: a model id (free
# text), an error message, and a key (the report schema refuses it, so that report is left
# out, and the reason quoting the key is shown).
XSS_KEY = "x\"'><script>window.__pwned=1</script>&amp;"
XSS_ID = '</script><script>window.__pwned=2</script><img src=x onerror="window.__pwned=3">'
XSS_ERROR = "model directory ./not-a-model has no config.json <script>window.__pwned=4</script>"
PLANTED_ID = '<img src=x onerror="window.__pwned=7">'  # short: a 200-model row stays one line
CALIBRATION = "test calibration <2026> & co"
RATING_COLUMNS = [
    "model",
    "task",
    "class",
    "group",
    "gpu_wh_per_1000_queries",
    "stars",
    "rated",
    "unrated_reason",
    "out_of_calibration_range",
    "calibration_source",
]


def rescale(metrics: dict, statistics: dict, key: str, mean: float) -> None:
    """Give a metric another mean, scaling its trial values and interval alike."""
    ratio = mean / statistics[key]["mean"]
    stats = statistics[key]
    stats.update(
        values=[v * ratio for v in stats["values"]],
        mean=mean,
        std=stats["std"] * ratio,
        ci_low=stats["ci_low"] * ratio,
        ci_high=stats["ci_high"] * ratio,
    )
    metrics[key] = mean


def succeeded(
    key: str,
    *,
    cls: str,
    total_wh: float,
    gpu_wh: float | None,
    throughput: float,
    backend: str = "pytorch",
    reasoning: bool = False,
    model_id: str | None = None,
    checks_pass: bool = False,
) -> dict:
    """The sample report under another key, with the given figures (schema-valid); a vLLM
    model gets latency statistics instead of the prefill/decode split."""
    report = copy.deepcopy(SAMPLE)
    report["model"] = key
    report["config"].update(
        {
            "model": key,
            "id": model_id or f"org/{key}",
            "class": cls,
            "backend": backend,
            "reasoning": reasoning,
        }
    )
    report["summary"]["completion_tokens_per_second"] = throughput
    statistics = report["metrics"]["trial_statistics"]
    rescale(report["metrics"], statistics, "total_wh_per_1000_queries", total_wh)
    if gpu_wh is not None:  # a metered GPU: its figure spread over trials like the total's
        gpu = copy.deepcopy(report["energy"]["components"]["cpu"])
        gpu.update(source="nvml", estimated=False, reason=None, devices=["gpu0"])
        report["energy"]["components"]["gpu"] = gpu
        statistics["wh_per_1000_queries"] = copy.deepcopy(statistics["total_wh_per_1000_queries"])
        rescale(report["metrics"], statistics, "wh_per_1000_queries", gpu_wh)
    if backend == "vllm":
        stats = {"count": 8, "mean": 0.05, "median": 0.04, "p90": 0.09, "p99": 0.12}
        report.update(
            phases=None,
            latency={
                "definition": "per request",
                "ttft_s": stats,
                "itl_s": None,
                "tpot_s": stats,
                "e2e_latency_s": stats,
                "requests_file": None,
                "trials": [],
            },
        )
    for check in report["checks"]:
        if checks_pass and check["passed"] is False:
            check["passed"] = True
    # The schema refuses keys that are not file names; the site must still show a hand-edited
    # report's key as text, so only the rest of a planted report is checked.
    validate_report({**report, "model": page_name(key)})
    return report


def campaign() -> list[dict]:
    broken = Report.failed(
        "broken",
        {**SAMPLE["config"], "model": "broken", "id": "./not-a-model"},
        XSS_ERROR,
        SAMPLE["provenance"],
    ).to_dict()
    return [
        succeeded("alpha", cls="A", total_wh=0.05, gpu_wh=0.02, throughput=2500, checks_pass=True),
        succeeded(
            "beta",
            cls="B",
            total_wh=0.18,
            gpu_wh=0.09,
            throughput=700,
            backend="vllm",
            reasoning=True,
        ),
        succeeded("gamma", cls="A", total_wh=0.30, gpu_wh=None, throughput=100),
        succeeded("markup", cls="C", total_wh=0.40, gpu_wh=0.2, throughput=300, model_id=XSS_ID),
        succeeded("delta", cls="C", total_wh=0.90, gpu_wh=0.5, throughput=50),
        broken,
    ]


def write_campaign(root: Path, reports: list[dict]) -> list[Path]:
    paths = []
    for report in reports:
        folder = root / "runs" / page_name(report["model"])
        folder.mkdir(parents=True)
        (folder / "benchmark_report.json").write_text(json.dumps(report))
        if report["timeline_file"]:
            shutil.copy(
                REPO_ROOT / "tests/data/site_power_timeline.csv", folder / report["timeline_file"]
            )
        paths.append(folder / "benchmark_report.json")
    return paths


def write_ratings(path: Path) -> Path:
    rows = [("alpha", 5, ""), ("beta", 3, ""), ("gamma", "", "no GPU energy"), ("delta", 1, "")]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, RATING_COLUMNS)
        writer.writeheader()
        for model, stars, reason in rows:
            writer.writerow(
                {
                    "model": model,
                    "task": "text_generation",
                    "class": "A",
                    "group": "text_generation/A",
                    "gpu_wh_per_1000_queries": "",
                    "stars": stars,
                    "rated": str(stars != ""),
                    "unrated_reason": reason,
                    "out_of_calibration_range": "False",
                    "calibration_source": CALIBRATION,
                }
            )
    return path


def write_label_and_figure(root: Path) -> tuple[list[Path], list[Path]]:
    labels = root / "labels"
    labels.mkdir()
    (labels / "alpha.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="300">'
        '<rect width="200" height="300" fill="#1b9e77"/><text x="20" y="40">alpha</text></svg>'
    )
    figures = root / "figures" / "runs"
    (figures / "alpha").mkdir(parents=True)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([0, 1, 2], [20, 35, 22])
    figure.savefig(figures / "alpha" / "power_timeline.png")
    plt.close(figure)
    return [labels / "alpha.svg"], [figures / "alpha" / "power_timeline.png"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The synthetic campaign's site: (site folder, inputs folder, reports by key)."""
    root = tmp_path_factory.mktemp("campaign")
    reports = campaign()
    paths = write_campaign(root, reports)
    planted = root / "runs/planted/benchmark_report.json"
    planted.parent.mkdir()
    planted.write_text(json.dumps({**reports[0], "model": XSS_KEY}))
    labels, figures = write_label_and_figure(root)
    site = root / "results" / "site"
    build_site(
        write_collection([*paths, planted], root / "reports.jsonl"),
        site,
        ratings=write_ratings(root / "ratings.csv"),
        labels=labels,
        figures=figures,
        comparisons=figures,
        methodology=METHODOLOGY,
    )
    return site, root, {r["model"]: r for r in reports}


# --- the files ---------------------------------------------------------------------------


def test_page_names_are_the_key_where_it_is_a_safe_file_name():
    assert page_name("llama-3.1-8b_v2") == "llama-3.1-8b_v2"
    for unsafe in (XSS_KEY, "..", ".", "a/b", "x" * 200):
        name = page_name(unsafe)
        assert re.fullmatch(r"key-[0-9a-f]{16}", name), name
    assert page_name("a/b") != page_name("a/c")


def test_figures_and_nested_fields_read_as_text():
    assert [format_number(v) for v in (None, 0.000123456, 0.05, 2500.4, 12345.6, 3, True)] == [
        "—",
        "0.000123",
        "0.05",
        "2,500",
        "12,346",
        "3",
        "True",
    ]
    assert format_number(2500.4, 4) == "2500"
    assert format_number(999.7) == "1,000"  # not "1e+03"
    assert flatten({"a": {"b": [1, 2]}, "c": None, "d": [{"x": True}], "e": {}}) == [
        ("a.b", "1, 2"),
        ("c", "none"),
        ("d[0].x", "true"),
        ("e", "none"),
    ]


def test_entries_select_figures_with_intervals_and_reasons(built):
    _, root, _ = built
    usable, left_out = collect(root / "reports.jsonl", read_ratings(root / "ratings.csv"))
    entries = {e["key"]: e for e in usable}
    assert [Path(r["path"]).parent.name for r in left_out] == ["planted"]
    assert "does not follow report schema" in left_out[0]["reason"]
    spread = TOTAL_STATISTICS["ci_low"] / TOTAL_STATISTICS["mean"]  # the sample's interval
    gpu = entries["alpha"]["gpu_wh_per_1000_queries"]
    assert gpu["value"] == 0.02 and not gpu["estimated"] and gpu["interval_reason"] is None
    assert gpu["low"] == pytest.approx(0.02 * spread) and gpu["high"] > 0.02
    total = entries["alpha"]["total_wh_per_1000_queries"]
    assert total["value"] == 0.05 and total["estimated"]
    assert total["low"] == pytest.approx(0.05 * spread)
    one_trial = copy.deepcopy(SAMPLE)
    one_trial["metrics"]["trial_statistics"]["joules_per_token"].update(
        ci_low=None, ci_high=None, reason="one valid trial: no spread"
    )
    entry = model_entry(Report.from_dict(one_trial), None)
    assert entry["joules_per_token"]["interval_reason"] == "one valid trial: no spread"
    gamma_gpu = entries["gamma"]["gpu_wh_per_1000_queries"]
    assert gamma_gpu["value"] is None and gamma_gpu["low"] is None
    assert gamma_gpu["reason"] == "not counted: the run used no GPU"
    broken = entries["broken"]
    assert broken["status"] == "failed" and "not-a-model" in broken["failure"]
    assert all(
        broken[f]["value"] is None and broken[f]["reason"] == "run failed"
        for f in (
            "gpu_wh_per_1000_queries",
            "total_wh_per_1000_queries",
            "joules_per_token",
            "completion_tokens_per_second",
        )
    )
    assert entries["alpha"]["rating"]["stars"] == 5
    assert entries["gamma"]["rating"] == {
        "stars": None,
        "reason": "no GPU energy",
        "out_of_range": False,
        "calibration": CALIBRATION,
    }
    assert entries["markup"]["rating"]["reason"] == "not in the ratings table"
    failed = [c["name"] for c in SAMPLE["checks"] if c["passed"] is False]
    assert len(failed) > len(set(failed)) > 1  # one check failing in several windows
    assert entries["beta"]["failed_checks"] == list(dict.fromkeys(failed))
    assert entries["alpha"]["failed_checks"] == []


def test_a_model_page_has_the_tables_its_backend_reports(built):
    site, _, _ = built
    alpha = (site / "models/alpha.html").read_text()
    assert 'id="phases"' in alpha and 'id="latency"' not in alpha
    phases = re.search(r'<table id="phases">.*?</table>', alpha, re.S).group(0)
    assert "Prefill, J / query" in phases and "Decode, mJ / generated token" in phases
    assert len(re.findall(r'<td class="num">', phases)) == 4 * phases.count('scope="row"')
    beta = (site / "models/beta.html").read_text()
    assert 'id="phases"' not in beta
    latency = re.search(r'<table id="latency">.*?</table>', beta, re.S).group(0)
    rows = re.findall(r'<th scope="row">([^<]+)</th>', latency)
    assert rows == ["time to first token", "time per output token", "end-to-end latency"]
    # Configuration and provenance as dotted keys: hardware, versions, code, runtime, image.
    for key in (
        "dataset_column",
        "hardware.cpu_model",
        "packages.torch",
        "code_version",
        "runtime.name",
        "runtime.image",
    ):
        assert f'<th scope="row">{key}</th>' in beta, key


def test_without_a_ratings_table_every_model_is_unrated_and_says_why(tmp_path):
    paths = write_campaign(tmp_path, campaign()[:2])
    build_site(
        write_collection(paths, tmp_path / "reports.jsonl"),
        tmp_path / "site",
        ratings=tmp_path / "absent.csv",
    )
    index = (tmp_path / "site/index.html").read_text()
    assert 'star calibration: <span id="calibration">none: no ratings table</span>' in index
    assert (
        index.count(
            '<summary><span class="unrated">unrated</span></summary>'
            '<span class="why">no ratings table'
        )
        == 2
    )
    page = (tmp_path / "site/models/alpha.html").read_text()
    assert "No label: the labels were not made" in page and "power timeline" in page


class Links(HTMLParser):
    """Every href and src of a page, but the links a reader follows to a model's Hugging Face
    page (``hub``): those load nothing when the page opens."""

    def __init__(self):
        super().__init__()
        self.targets, self.hub = [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if tag == "a" and name == "href" and value.startswith("https://huggingface.co/"):
                self.hub.append(value)
            elif name in ("href", "src") and value:
                self.targets.append(value)


def test_site_is_self_contained_and_every_link_resolves(built):
    site, _, reports = built
    pages = sorted(site.rglob("*.html"))
    # The leaderboard, compare, figures and methodology pages, and one per model.
    assert len(pages) == 4 + len(reports)
    for page in pages:
        links = Links()
        links.feed(page.read_text())
        for target in links.targets:
            parts = urlsplit(target)
            assert not parts.scheme and not parts.netloc, f"{page.name} reaches out: {target}"
            if parts.path:
                resolved = (page.parent / unquote(parts.path)).resolve()
                assert resolved.is_file() and site.resolve() in resolved.parents, (page, target)
    assert json.loads((site / "runs/alpha/benchmark_report.json").read_text())["model"] == "alpha"
    assert (site / "runs/alpha/power_timeline.csv").exists()
    assert not (site / "runs/broken/power_timeline.csv").exists()
    assert (site / "labels/alpha.svg").exists()
    assert (site / "figures/alpha/power_timeline.png").exists()


def test_hub_ids_link_to_hugging_face_and_local_paths_do_not(built):
    site, _, _ = built
    index, alpha, broken = (Links(), Links(), Links())
    index.feed((site / "index.html").read_text())
    alpha.feed((site / "models/alpha.html").read_text())
    broken.feed((site / "models/broken.html").read_text())
    assert "https://huggingface.co/org/alpha" in index.hub
    assert alpha.hub == ["https://huggingface.co/org/alpha"]
    assert broken.hub == []  # its id, ./not-a-model, is a local path
    assert hub_url("resources/models/tiny-llama-2l") is None and hub_url("gpt2") is None
    assert hub_url("../x/y") is None and hub_url("org/name?q=1") is None


def test_a_local_model_directory_of_one_slash_gets_no_hub_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert hub_url("models/foo") == "https://huggingface.co/models/foo"  # none here: a Hub id
    (tmp_path / "models/foo").mkdir(parents=True)
    assert hub_url("models/foo") is None  # as the run read it: a local directory


def test_the_table_and_labels_download_the_table_with_reasons_not_zeros(built):
    site, _, reports = built
    assert 'href="leaderboard.csv" download' in (site / "index.html").read_text()
    assert 'href="../labels/alpha.svg" download' in (site / "models/alpha.html").read_text()
    with open(site / "leaderboard.csv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(reports)
    assert rows["alpha"]["stars"] == "5" and float(rows["alpha"]["gpu_wh_per_1000_queries"]) > 0
    gamma = rows["gamma"]
    assert gamma["gpu_wh_per_1000_queries"] == "" and gamma["gpu_wh_per_1000_queries_reason"]
    assert rows["broken"]["failure"].startswith("run failed")
    assert rows["markup"]["id"] == XSS_ID  # markup is data here, as written


def test_a_failed_rerun_shows_the_earlier_attempts_files_and_says_so_in_the_csv(tmp_path):
    """The page's figures come from the earlier, succeeded attempt; so do its raw report and
    timeline, and leaderboard.csv notes that they are not the newest run's."""
    from energybench.job import history

    good, failed = (
        campaign()[0],
        Report.failed(
            "alpha", SAMPLE["config"], RuntimeError("OOM"), SAMPLE["provenance"]
        ).to_dict(),
    )
    model_dir = tmp_path / "runs/alpha"
    for name, report in (("20260101T000000Z", good), ("20260102T000000Z", failed)):
        [path] = write_campaign(tmp_path / name, [report])
        attempt = model_dir / history.HISTORY / name
        shutil.copytree(path.parent, attempt)
        history.publish(attempt, model_dir)
    build_site(
        write_collection([model_dir / "benchmark_report.json"], tmp_path / "reports.jsonl"),
        tmp_path / "site",
        ratings=write_ratings(tmp_path / "ratings.csv"),
    )
    shown = model_dir / history.HISTORY / "20260101T000000Z"
    raw = tmp_path / "site/runs/alpha"
    assert (raw / "benchmark_report.json").read_bytes() == (
        shown / "benchmark_report.json"
    ).read_bytes()
    assert (raw / "power_timeline.csv").read_bytes() == (shown / good["timeline_file"]).read_bytes()
    page = (tmp_path / "site/models/alpha.html").read_text()
    assert "the run recorded none" not in page and "history/20260101T000000Z" in page
    with open(tmp_path / "site/leaderboard.csv", newline="") as handle:
        [row] = csv.DictReader(handle)
    assert row["status"] == "succeeded"
    assert row["note"].startswith("shown: the earlier attempt history/20260101T000000Z")


def test_markup_in_keys_and_ids_is_escaped_in_the_html_and_the_embedded_json(built):
    site, _, _ = built
    for page in site.rglob("*.html"):
        source = page.read_text()
        assert "<script>window" not in source and "<img src=x" not in source, page
    compare = (site / "compare.html").read_text()
    assert compare.count("</script>") == 2  # the data block and compare.js, nothing planted
    data = re.search(
        r'<script type="application/json" id="site-data">(.*?)</script>', compare, re.S
    ).group(1)
    embedded = {m["key"]: m for m in json.loads(data)}
    assert embedded["markup"]["id"] == XSS_ID and XSS_ERROR in embedded["broken"]["failure"]
    assert "planted" not in embedded and XSS_KEY not in data
    assert CALIBRATION not in (site / "index.html").read_text()
    assert "test calibration &lt;2026&gt; &amp; co" in (site / "index.html").read_text()


def test_the_site_uses_the_paper_figures_palette(built):
    site, _, _ = built
    css = (site / "assets/palette.css").read_text()
    for name, color in COMPONENT_COLORS.items():
        assert f"--color-{name}: {color};" in css
    for stars, color in STAR_COLORS.items():
        assert f"--star-{stars or 'unrated'}: {color};" in css
    assert 'class="stars stars-5"' in (site / "index.html").read_text()


def test_zero_models_build_an_empty_state(tmp_path):
    build_site(write_collection([], tmp_path / "reports.jsonl"), tmp_path / "site")
    index = (tmp_path / "site/index.html").read_text()
    assert 'id="empty-state"' in index and "<table" not in index
    assert 'newest report: <span id="newest-report">none</span>' in index
    assert 'id="empty-state"' in (tmp_path / "site/compare.html").read_text()


def test_a_rebuild_replaces_the_old_site_whole(tmp_path):
    reports = campaign()
    paths = write_campaign(tmp_path, reports)
    build_site(write_collection(paths, tmp_path / "all.jsonl"), tmp_path / "site")
    assert (tmp_path / "site/models/delta.html").exists()
    fewer = write_collection(
        [p for p in paths if p.parent.name != "delta"], tmp_path / "fewer.jsonl"
    )
    build_site(fewer, tmp_path / "site")
    assert not (tmp_path / "site/models/delta.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no staging left
        "all.jsonl",
        "fewer.jsonl",
        "runs",
        "site",
    ]


# --- in a real browser -------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed (requirements/ci.txt)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (run .ci/install-browser.sh as root)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = browser_missing()
    require(missing is None, missing or "")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def open_page(driver, path: Path, fragment: str = ""):
    driver.get(path.resolve().as_uri() + fragment)
    assert driver.execute_script("return document.readyState") == "complete"


def no_script_ran_and_no_errors(driver) -> None:
    assert driver.execute_script("return window.__pwned === undefined")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def visible_models(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.getAttribute('data-model'))"
    )


def header(driver, key):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'#leaderboard th[data-key="{key}"]')


def expected_order(reports: dict, figure, descending=False) -> list[str]:
    """Known values sorted, unknown ones last in either direction."""
    known = [k for k in reports if figure(reports[k]) is not None]
    unknown = [k for k in reports if figure(reports[k]) is None]
    return sorted(known, key=lambda k: figure(reports[k]), reverse=descending) + unknown


@pytest.mark.integration
def test_clicking_a_header_sorts_by_that_column(browser, built):
    site, _, reports = built
    open_page(browser, site / "index.html")
    # Per rating group (class A, B, C), ranked by measured GPU energy, what the stars rate;
    # in class A the CPU-only gamma and the failed broken follow alpha, unranked, by key.
    assert visible_models(browser) == ["alpha", "broken", "gamma", "beta", "markup", "delta"]
    assert header(browser, "rank").get_attribute("aria-sort") == "ascending"

    def throughput(report):
        return report["summary"].get("completion_tokens_per_second")

    header(browser, "throughput").find_element("tag name", "button").click()
    assert visible_models(browser) == expected_order(reports, throughput)
    assert header(browser, "throughput").get_attribute("aria-sort") == "ascending"
    assert header(browser, "rank").get_attribute("aria-sort") == "none"
    header(browser, "throughput").find_element("tag name", "button").click()
    assert visible_models(browser) == expected_order(reports, throughput, descending=True)
    assert visible_models(browser)[-1] == "broken"  # unknown stays last
    assert header(browser, "throughput").get_attribute("aria-sort") == "descending"
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_keyboard_alone_sorts_the_table(browser, built):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    site, _, reports = built
    open_page(browser, site / "index.html")
    # Tab from the search box through the filters to the header buttons.
    browser.find_element("id", "search").click()
    focused = None
    for _ in range(20):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if focused.text.startswith("GPU energy"):
            break
    assert focused.tag_name == "button" and focused.text.startswith("GPU energy")

    def gpu(report):
        return report["metrics"]["wh_per_1000_queries"]

    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert visible_models(browser)[:4] == expected_order(reports, gpu)[:4]
    assert header(browser, "gpu").get_attribute("aria-sort") == "ascending"
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    assert visible_models(browser)[:4] == expected_order(reports, gpu, descending=True)[:4]
    assert set(visible_models(browser)[4:]) == {"gamma", "broken"}
    assert header(browser, "gpu").get_attribute("aria-sort") == "descending"


@pytest.mark.integration
def test_filters_and_search_show_only_matching_rows(browser, built):
    from selenium.webdriver.support.ui import Select

    site, _, reports = built
    open_page(browser, site / "index.html")
    Select(browser.find_element("id", "filter-class")).select_by_value("A")
    class_a = [k for k, r in reports.items() if r["config"]["class"] == "A"]
    assert sorted(visible_models(browser)) == sorted(class_a) == ["alpha", "broken", "gamma"]
    assert browser.find_element("id", "shown").text == f"Showing 3 of {len(reports)} models"
    Select(browser.find_element("id", "filter-status")).select_by_value("failed")
    assert visible_models(browser) == ["broken"]
    Select(browser.find_element("id", "filter-status")).select_by_value("")
    Select(browser.find_element("id", "filter-class")).select_by_value("")

    search = browser.find_element("id", "search")
    search.send_keys("BET")
    assert visible_models(browser) == ["beta"]
    search.clear()
    search.send_keys("org/del")  # the model id is searched too
    assert visible_models(browser) == ["delta"]
    search.clear()
    search.send_keys("no such model")
    assert visible_models(browser) == []
    assert browser.find_element("id", "no-match").is_displayed()
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_a_model_page_shows_its_label_figures_and_checks(browser, built, tmp_path):
    site, _, reports = built
    open_page(browser, site / "index.html")
    browser.find_element("css selector", 'tr[data-model="alpha"] a.model-link').click()
    assert browser.current_url.endswith("/models/alpha.html")
    assert browser.find_element("id", "model-key").text == "alpha"
    label = browser.find_element("id", "label")
    assert (
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", label)
        == 200
    )
    figure = browser.find_element("css selector", ".figure-grid img")
    assert browser.execute_script("return arguments[0].naturalWidth", figure) > 100
    rows = browser.find_elements("css selector", "#checks tbody tr")
    shown = [
        (r.find_element("tag name", "th").text, r.find_element("css selector", ".badge").text)
        for r in rows
    ]
    result = {True: "pass", False: "fail", None: "not evaluated"}
    assert shown == [(c["name"], result[c["passed"]]) for c in reports["alpha"]["checks"]]
    assert "fail" not in [s for _, s in shown] and "pass" in [s for _, s in shown]
    browser.find_element("id", "raw-report").click()
    assert json.loads(browser.find_element("tag name", "body").text)["model"] == "alpha"
    browser.back()
    browser.save_screenshot(str(tmp_path / "model-alpha.png"))
    assert (tmp_path / "model-alpha.png").stat().st_size > 10_000
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_a_failed_run_renders_with_its_reason(browser, built):
    site, _, reports = built
    open_page(browser, site / "models/broken.html")
    assert "not-a-model" in browser.find_element("id", "failure").text
    assert browser.find_element("id", "no-checks").text == "No checks ran: the run failed."
    open_page(browser, site / "index.html")
    row = browser.find_element("css selector", 'tr[data-model="broken"]')
    row.find_element("css selector", "details.failure summary").click()  # folded: one line
    error = reports["broken"]["error"]
    assert XSS_ERROR in error["message"]
    assert f"run failed: {error['type']}: {error['message']}" in row.text
    assert "est." not in row.text and "0.0" not in row.text


@pytest.mark.integration
def test_planted_markup_is_shown_as_text_and_never_runs(browser, built):
    site, _, _ = built
    open_page(browser, site / "index.html")
    row = browser.find_element("css selector", 'tr[data-model="markup"]')
    assert row.find_element("css selector", ".model-id").text == XSS_ID
    failed = browser.find_element("css selector", 'tr[data-model="broken"] details.failure')
    failed.find_element("tag name", "summary").click()
    why = failed.find_element("css selector", ".why").text
    assert why.startswith("run failed: RunFailed: ") and XSS_ERROR in why
    left_out = browser.find_element("id", "left-out").text
    assert "planted" in left_out and "<script>window.__pwned=1</script>&amp;" in left_out
    no_script_ran_and_no_errors(browser)
    row.find_element("css selector", "a.model-link").click()
    assert browser.find_element("id", "model-key").text == "markup"
    assert browser.find_element("id", "model-id").text == XSS_ID
    no_script_ran_and_no_errors(browser)
    open_page(browser, site / "models/broken.html")
    assert XSS_ERROR in browser.find_element("id", "failure").text
    no_script_ran_and_no_errors(browser)
    open_page(browser, site / "compare.html", "#models=markup,broken")
    columns = browser.find_elements("css selector", ".compare-col")
    assert [c.find_element("tag name", "h2").text for c in columns] == ["markup", "broken"]
    assert XSS_ERROR in columns[1].text
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_comparison_shows_two_to_five_models_side_by_side(browser, built, tmp_path):
    site, _, reports = built
    open_page(browser, site / "compare.html", "#models=alpha,beta")
    columns = browser.find_elements("css selector", ".compare-col")
    assert [c.get_attribute("data-model") for c in columns] == ["alpha", "beta"]
    assert columns[0].location["y"] == columns[1].location["y"]  # side by side
    assert columns[0].location["x"] < columns[1].location["x"]
    gpu = reports["alpha"]["metrics"]["trial_statistics"]["wh_per_1000_queries"]
    interval = f"0.02 [{format_number(gpu['ci_low'])}–{format_number(gpu['ci_high'])}]"
    assert interval in columns[0].text and "3 of 5 stars" in columns[1].text
    assert (
        columns[0].find_element("css selector", "img.label").get_attribute("naturalWidth") == "200"
    )
    browser.save_screenshot(str(tmp_path / "compare.png"))

    boxes = browser.find_elements("css selector", "#picker input")
    for box in boxes:
        if not box.is_selected() and not box.get_attribute("disabled"):
            box.click()
    assert sum(b.is_selected() for b in boxes) == 5
    assert [b.get_attribute("disabled") for b in boxes if not b.is_selected()] == ["true"] * (
        len(reports) - 5
    )
    assert len(browser.find_elements("css selector", ".compare-col")) == 5
    assert browser.execute_script("return location.hash").count(",") == 4  # a bookmarkable choice
    for box in boxes:
        if box.is_selected():
            box.click()
    assert browser.find_element("id", "compare-message").text.startswith("Pick at least two")
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_phone_width_and_dark_mode(browser, built, tmp_path):
    site, _, _ = built
    browser.set_window_size(390, 844)
    try:
        open_page(browser, site / "index.html")
        # The page never scrolls sideways; only the table does, inside its own box.
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        browser.save_screenshot(str(tmp_path / "index-phone.png"))
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
        background = browser.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        assert background == "rgb(18, 20, 23)", background
        browser.save_screenshot(str(tmp_path / "index-phone-dark.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        browser.set_window_size(1400, 1000)
    open_page(browser, site / "index.html")
    browser.save_screenshot(str(tmp_path / "index.png"))
    for name in ("index.png", "index-phone.png", "index-phone-dark.png"):
        assert (tmp_path / name).stat().st_size > 10_000


@pytest.mark.integration
def test_empty_site_renders_its_empty_state(browser, tmp_path):
    build_site(write_collection([], tmp_path / "reports.jsonl"), tmp_path / "site")
    open_page(browser, tmp_path / "site/index.html")
    assert browser.find_element("id", "empty-state").is_displayed()
    assert browser.find_elements("id", "leaderboard") == []
    browser.save_screenshot(str(tmp_path / "empty.png"))
    no_script_ran_and_no_errors(browser)


def test_the_trials_tokens_per_second_are_generated_tokens_as_everywhere_else(built):
    """The site's tokens per second are generated tokens, as models.csv's and the figures'
    (AES's prompt + completion throughput under a bare "Throughput" meant another thing)."""
    site, _, _ = built
    trials = re.search(
        r'<table id="trials">.*?</table>', (site / "models/alpha.html").read_text(), re.S
    ).group(0)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', trials)
    assert headers[2:4] == ["Generated tokens", "Generated tokens / s"]


def test_a_run_with_a_power_range_check_builds_and_shows_its_range(tmp_path):
    """Every metered GPU or RAPL run has ``<component>_power_in_range`` checks, whose limit is
    the range [idle W, 1.1 x power limit W] (either end may be unknown)."""
    report = copy.deepcopy(SAMPLE)
    report["checks"].append(
        {
            "name": "gpu_power_in_range",
            "value": 250.0,
            "limit": [50.0, None],
            "passed": True,
            "severity": "error",
            "detail": "average 250 W; not checked against: power limit",
            "trial": 0,
        }
    )
    site = tmp_path / "site"
    build_site(
        write_collection(write_campaign(tmp_path, [report]), tmp_path / "reports.jsonl"), site
    )
    page = (site / "models" / f"{page_name(report['model'])}.html").read_text()
    row = re.search(r'<th scope="row">gpu_power_in_range</th>.*?</tr>', page, re.S).group(0)
    assert '<td class="num">250</td><td class="num">[50, —]</td>' in row


# --- at campaign scale (issue 24, item 7) ----------------------------------------------------


def peak_memory(gpu_bytes: int | None) -> dict:
    """A memory section: the GPUs' peak where one was metered, else null with its reason."""
    from energybench.run.meters.memory import PeakMemory
    from energybench.run.report_builder import memory_section

    framework = {
        "framework_allocated_bytes": None,
        "framework_reserved_bytes": None,
        "framework_reason": "the model ran on the CPU",
    }
    return memory_section(
        None if gpu_bytes is None else {"gpu0": gpu_bytes},
        "no GPU metered" if gpu_bytes is None else None,
        framework,
        PeakMemory(2**31, "getrusage"),
    ).to_dict()


def large_campaign(count: int) -> list[dict]:
    """``count`` models over classes A to C, one in four CPU-only (unrated, with a reason
    that used to wrap its row, no GPU memory), one in ten failed (their errors carrying
    markup), Hub ids but one, whose id is markup."""
    reports = []
    for i in range(count):
        key = f"model-{i:03d}"
        if i % 10 == 9:
            reports.append(
                Report.failed(
                    key, {**SAMPLE["config"], "model": key}, XSS_ERROR, SAMPLE["provenance"]
                ).to_dict()
            )
        else:
            cpu_only = i % 4 == 3
            report = succeeded(
                key,
                cls="ABC"[i % 3],
                total_wh=0.1 + i * 0.01,
                gpu_wh=None if cpu_only else 0.05 + i * 0.005,
                throughput=100 + i,
                model_id=PLANTED_ID if i == 1 else None,
            )
            report["memory"] = peak_memory(None if cpu_only else (i + 1) * 2**26)
            reports.append(report)
    return reports


def write_labels(root: Path, reports: list[dict]) -> list[Path]:
    """A small SVG label for each model, as the label rule draws them."""
    (root / "labels").mkdir()
    labels = []
    for report in reports:
        labels.append(root / "labels" / f"{report['model']}.svg")
        labels[-1].write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="30">'
            '<rect width="20" height="30" fill="#1b9e77"/></svg>'
        )
    return labels


METHODOLOGY = [REPO_ROOT / "docs/energy.md", REPO_ROOT / "docs/paper.md"]
COMPARISON_TITLES = [
    "Energy per 1,000 queries, ranked within each rating group",
    "Energy per token against generated tokens per second",
    "Prefill and decode energy, per query and per token",
    "Latency percentiles of served models",
]
FIGURE_MODULES = {
    "energy": "energy_per_1000_queries",
    "pareto": "energy_per_token_vs_throughput",
    "phases": "prefill_decode",
    "latency": "latency_percentiles",
}


def comparison_figures(collection: Path, folder: Path) -> list[Path]:
    """The paper's comparison figures of a campaign, drawn as `make paper` draws them."""
    from energybench.publish.paper import build

    ratings = folder / "ratings.csv"
    build.build_ratings(collection, ratings, folder / "calibration.json")
    drawn = []
    for module, name in FIGURE_MODULES.items():
        drawn.append(folder / f"{name}.png")
        build.build_figure(module, collection, [drawn[-1]], ratings if module == "energy" else None)
    return drawn


@pytest.fixture(scope="module", params=[2, 200], ids=["2 models", "200 models"])
def campaign_site(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"campaign{request.param}")
    reports = large_campaign(request.param)
    paths = write_campaign(root, reports)
    site = root / "site"
    collection = write_collection(paths, root / "reports.jsonl")
    (root / "figures").mkdir()
    build_site(
        collection,
        site,
        comparisons=comparison_figures(collection, root / "figures"),
        methodology=METHODOLOGY,
        labels=write_labels(root, reports),
    )
    return site, request.param


@pytest.mark.integration
def test_rows_stay_one_line_high_and_reasons_open_on_request(browser, campaign_site):
    from selenium.webdriver.common.keys import Keys

    site, count = campaign_site
    open_page(browser, site / "index.html")
    heights = browser.execute_script(
        "return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
        ".map(r => r.getBoundingClientRect().height)"
    )
    assert len(heights) == count and max(heights) <= 60, max(heights)  # was 112 px
    summary = browser.find_element("css selector", 'tr[data-model="model-000"] details summary')
    reason = summary.find_element("xpath", "..").find_element("css selector", ".why")
    assert not reason.is_displayed()
    summary.send_keys(Keys.ENTER)  # a summary is a button: the keyboard opens it
    assert reason.is_displayed() and reason.text == "no ratings table"
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_the_header_row_stays_in_view_while_the_board_scrolls(browser, campaign_site):
    site, count = campaign_site
    open_page(browser, site / "index.html")
    tops = browser.execute_script("""
        const board = document.querySelector('.board');
        board.scrollTop = board.scrollHeight;
        const header = document.querySelector('#leaderboard thead th');
        return [board.getBoundingClientRect().top, header.getBoundingClientRect().top,
                board.scrollTop];""")
    board_top, header_top, scrolled = tops
    assert abs(header_top - board_top) <= 1
    assert (scrolled > 0) == (count == 200)  # 2 rows fit: nothing to scroll


@pytest.mark.integration
def test_the_compare_picker_narrows_to_a_search_and_keeps_the_picked(browser, campaign_site):
    site, count = campaign_site
    open_page(browser, site / "compare.html")

    def listed():
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('#picker label'))"
            ".filter(l => !l.hidden).map(l => l.querySelector('input').value)"
        )

    assert len(listed()) == count
    browser.find_element("css selector", '#picker input[value="model-000"]').click()
    search = browser.find_element("id", "picker-search")
    search.send_keys("model-001")
    assert listed() == ["model-000", "model-001"]  # the picked one stays
    assert browser.find_element("id", "picker-shown").text == f"2 of {count} listed"
    browser.find_element("css selector", '#picker input[value="model-001"]').click()
    assert len(browser.find_elements("css selector", ".compare-col")) == 2
    search.clear()
    search.send_keys("no such model")
    assert listed() == ["model-000", "model-001"]
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_downloads_hub_links_and_the_per_model_columns_hold_at_every_row(browser, campaign_site):
    """The table's CSV download holds every row the page shows, in its order, with the same
    hardware, GPU count, parameters and peak GPU memory (empty with its reason where the
    page shows why); Hub ids link to Hugging Face; a model page's label downloads; the
    markup planted in an id and in errors is shown as text and never runs."""
    site, count = campaign_site
    open_page(browser, site / "index.html")
    href = browser.find_element("id", "download-csv").get_attribute("href")
    assert Path(unquote(urlsplit(href).path)) == (site / "leaderboard.csv").resolve()
    with open(site / "leaderboard.csv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert list(rows) == visible_models(browser) and len(rows) == count
    cells = browser.execute_script("""
        const keys = Array.from(document.querySelectorAll('#leaderboard thead th'))
            .map(h => h.getAttribute('data-key'));
        return Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => [
            r.getAttribute('data-model'),
            ...['hardware', 'gpus', 'parameters', 'memory'].map(k => r.cells[keys.indexOf(k)])
                .map(c => [c.getAttribute('data-value'), c.textContent]),
            Array.from(r.querySelectorAll('a.model-id')).map(a => a.href)]);""")
    for model, hardware, gpus, parameters, memory, hub in cells:
        row = rows[model]
        assert [hardware[0], gpus[0], parameters[0]] == [
            row["hardware"],
            row["gpus"],
            row["parameters"],
        ], model
        if row["peak_gpu_used_gib"]:
            assert float(memory[0]) == pytest.approx(float(row["peak_gpu_used_gib"]))
        else:  # unknown: no number, and why
            assert memory[0] == "" and row["peak_gpu_used_gib_reason"] in memory[1], model
        assert hub == ([row["hub_url"]] if row["hub_url"] else []), model
    unknown_memory = {row["peak_gpu_used_gib"] == "" for row in rows.values()}
    assert unknown_memory == ({True, False} if count == 200 else {False})
    assert any(row["hub_url"] for row in rows.values())
    planted = browser.find_element("css selector", 'tr[data-model="model-001"] .model-id')
    assert planted.text == PLANTED_ID
    no_script_ran_and_no_errors(browser)
    for model in ("model-000", f"model-{count - 1:03d}"):
        open_page(browser, site / "models" / f"{model}.html")
        label = browser.find_element("css selector", "a[download][href$='.svg']")
        path = Path(unquote(urlsplit(label.get_attribute("href")).path))
        assert path == (site / "labels" / f"{model}.svg").resolve() and path.is_file()
        no_script_ran_and_no_errors(browser)


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "—"),
        (7, "7"),
        (999, "999"),
        (1000, "1k"),
        (585856, "586k"),
        (999999, "1 M"),
        (8030261248, "8.03 B"),
    ],
)
def test_parameter_counts_read_in_thousands_millions_and_billions(value, text):
    assert format_count(value) == text


def test_the_leaderboard_shows_hardware_gpu_count_and_parameters_where_reports_have_them():
    import paper_fixtures as fx

    gpu_run = fx.gpu_report("g", 1.0)
    gpu_run["provenance"]["meters"]["meters"]["gpu"] = {
        "meter": "nvml",
        "component": "gpu",
        "devices": [{"device": "gpu0", "name": "NVIDIA H100 80GB HBM3"}],
    }
    [gpu, cpu, failed] = fx.typed([gpu_run, fx.BASE, fx.failed("f")])
    assert [
        (e["hardware"], e["gpus"], e["parameters"])
        for e in (model_entry(r, None) for r in (gpu, cpu, failed))
    ] == [
        ("1 x NVIDIA H100 80GB HBM3", 1, 585856),
        ("CPU: AMD EPYC", 0, 585856),
        ("CPU: AMD EPYC", None, 585856),
    ]  # the backend counted before the run failed


@pytest.mark.integration
def test_a_tab_per_rating_group_shows_its_models_in_rank_order(browser, campaign_site):
    from selenium.webdriver.common.keys import Keys

    site, count = campaign_site
    open_page(browser, site / "index.html")
    tabs = browser.find_elements("css selector", "#group-tabs button")
    titles = [t.text for t in tabs]
    assert titles[0] == "All models" and "text generation, class B" in titles[1:]
    header(browser, "throughput").find_element("tag name", "button").click()  # another order
    tab = tabs[titles.index("text generation, class B")]
    tab.send_keys(Keys.ENTER)  # a button: the keyboard chooses it
    assert tab.get_attribute("aria-pressed") == "true"
    assert tabs[0].get_attribute("aria-pressed") == "false"
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
        ".filter(r => !r.hidden).map(r => [r.getAttribute('data-group'),"
        " r.cells[1].childNodes[0].textContent.trim()])"
    )
    assert rows and {group for group, _ in rows} == {"text_generation/B"}
    ranks = [rank for _, rank in rows]
    ranked = [int(r) for r in ranks if r != "—"]
    assert ranked == list(range(1, len(ranked) + 1))  # 1, 2, 3, ... then the unranked
    assert ranks[: len(ranked)] == [str(r) for r in ranked]
    assert header(browser, "rank").get_attribute("aria-sort") == "ascending"
    tabs[0].click()
    assert len(visible_models(browser)) == count
    no_script_ran_and_no_errors(browser)


# --- the comparison figures and the methodology page (issue 24, item 7) -----------------------


def test_the_site_names_the_comparison_figures_the_paper_draws():
    from energybench.publish.site.build import COMPARISON_FIGURES

    common = (REPO_ROOT / "rules/common.smk").read_text()
    drawn = re.search(r"^FIGURES = \{(.*?)^\}", common, re.S | re.M).group(1)
    assert list(COMPARISON_FIGURES) == re.findall(r'": "(\w+)"', drawn)
    assert list(FIGURE_MODULES.values()) == list(COMPARISON_FIGURES)


def test_the_methodology_page_shows_markup_as_text_and_loads_nothing(tmp_path):
    from energybench.publish.site.methodology import render

    energy = tmp_path / "energy.md"
    energy.write_text(
        "# Energy <b>figures</b>\n\n## 1. Meters & counters\n\n"
        "<script>window.__pwned=5</script>\n\n"
        "[run it](javascript:window.__pwned=6) ![a chart](https://example.com/x.png) "
        "[the code](../src/energybench/energy/) [section 1](#1-meters--counters) "
        "[the paper](paper.md#tables) [a web page](https://example.com/page)\n\n"
        "| a | b |\n| --- | --- |\n| `<i>` | 2 |\n"
    )
    paper = tmp_path / "paper.md"
    paper.write_text("# Paper\n\n## Tables\n\nSee [energy](energy.md).\n")
    first, second = render([energy, paper])
    assert (first.name, first.title, second.title) == ("energy", "Energy <b>figures</b>", "Paper")
    html = first.html
    assert "<script" not in html and "&lt;script&gt;" in html and "<b>" not in html
    assert "javascript:" not in re.sub(r">[^<]*<", "><", html)  # not in any attribute
    assert "<img" not in html and "a chart" in html  # an image would be fetched: its alt text
    assert 'id="energy-1-meters--counters"' in html
    assert 'href="#energy-1-meters--counters"' in html  # within the doc
    assert 'href="#paper-tables"' in html and 'id="paper-tables"' in second.html  # across
    assert 'href="#energy"' in second.html
    assert "the code" in html and "../src" not in html  # a source file: text, not a link
    assert 'href="https://example.com/page"' in html  # a web link a reader may follow
    assert "<table>" in html and "&lt;i&gt;" in html


def test_an_unreadable_methodology_doc_is_named(tmp_path):
    from energybench.publish.site.methodology import render

    with pytest.raises(ValueError, match=r"cannot read .*missing\.md"):
        render([tmp_path / "missing.md"])


def test_the_figures_and_methodology_pages_link_only_to_what_the_site_holds(built):
    site, _, _ = built
    figures = (site / "figures.html").read_text()
    assert 'src="figures/comparison/power_timeline.png"' in figures
    assert (site / "figures/comparison/power_timeline.png").is_file()
    methodology = (site / "methodology.html").read_text()
    anchors = set(re.findall(r'href="#([^"]+)"', methodology))
    ids = set(re.findall(r'id="([^"]+)"', methodology))
    assert anchors and anchors <= ids, anchors - ids
    for page in ("index.html", "compare.html", "models/alpha.html"):
        text = (site / page).read_text()
        assert "methodology.html" in text and "figures.html" in text, page


def test_a_site_built_without_figures_or_docs_says_so(tmp_path):
    paths = write_campaign(tmp_path, large_campaign(2))
    site = tmp_path / "site"
    build_site(write_collection(paths, tmp_path / "reports.jsonl"), site)
    assert "built without the comparison figures" in (site / "figures.html").read_text()
    assert "built without the methodology docs" in (site / "methodology.html").read_text()


def no_request_left_the_site(driver) -> None:
    """Every resource the page loaded came from the site's own files."""
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert all(url.startswith("file:") for url in loaded), loaded


@pytest.mark.integration
def test_the_comparison_figures_open_from_the_leaderboard(browser, campaign_site):
    from selenium.webdriver.common.keys import Keys

    site, count = campaign_site
    open_page(browser, site / "index.html")
    browser.find_element("id", "figures-link").send_keys(Keys.ENTER)  # keyboard alone
    assert browser.current_url.endswith("/figures.html")
    images = browser.find_elements("css selector", "#comparison-figures img")
    assert [i.get_attribute("alt") for i in images] == [
        f"{title} (figure)" for title in COMPARISON_TITLES
    ]
    for image in images:
        browser.execute_script("arguments[0].scrollIntoView()", image)  # loading="lazy"
        assert (
            browser.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", image
            )
            > 300
        )
    # The large forms above 60 models fit the page's width; at 2, one row per model.
    widths = browser.execute_script(
        "return Array.from(document.querySelectorAll('#comparison-figures img'))"
        ".map(i => [i.getBoundingClientRect().right, document.documentElement.clientWidth])"
    )
    assert all(right <= width for right, width in widths)
    no_request_left_the_site(browser)
    no_script_ran_and_no_errors(browser)


@pytest.mark.integration
def test_the_methodology_page_opens_from_the_leaderboard_and_its_links_stay_on_it(
    browser, campaign_site
):
    from selenium.webdriver.common.keys import Keys

    site, count = campaign_site
    open_page(browser, site / "index.html")
    browser.find_element("id", "methodology-link").send_keys(Keys.ENTER)
    assert browser.current_url.endswith("/methodology.html")
    sections = browser.find_elements("css selector", "section.methodology")
    assert [s.get_attribute("id") for s in sections] == ["energy", "paper"]
    assert sections[0].find_element("tag name", "h1").text.startswith("Energy figures")
    contents = browser.find_elements("css selector", "nav.contents a")
    contents[1].send_keys(Keys.ENTER)
    assert browser.current_url.endswith("methodology.html#paper")
    top = browser.execute_script(
        "return document.getElementById('paper').getBoundingClientRect().top"
    )
    assert abs(top) <= 2  # scrolled to the section
    assert browser.find_elements("css selector", "section.methodology table")
    no_request_left_the_site(browser)
    no_script_ran_and_no_errors(browser)
