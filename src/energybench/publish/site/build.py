"""Render the static site: ``index.html``, ``models/{key}.html``, ``compare.html``,
``figures.html`` (the paper's comparison figures), ``methodology.html`` (the docs that define
the figures) and ``assets/``, with the raw reports, timelines, labels and figures copied
beside them so a copy of the folder alone works from the file system or any static host.

Templates are autoescaped (a model key is text, never markup); data the comparison page
needs is embedded as JSON with ``<``, ``>``, ``&`` and ``'`` escaped, so a key holding
``</script>`` cannot end the script element.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import jinja2

from energybench import __version__
from energybench.run.energy.units import significant
from energybench.run.files import shared_mode
from energybench.publish.paper.ranking import ESTIMATE_SHARE, group_title
from energybench.publish.paper.palette import COMPONENT_COLORS, STAR_COLORS, STAR_COLORS_DARK
from energybench.publish.paper.stored import shown_folder
from energybench.run.report import COMPONENTS, Report
from energybench.publish.site.download import leaderboard_csv
from energybench.publish.site.entries import calibration, collect, figure_of, read_ratings
from energybench.publish.site.methodology import render as render_methodology

# Per-run figures the paper rules draw under results/figures/runs/{model}/, in page order
# (prefill/decode and latency are per-run tables here, drawn across models by the paper).
RUN_FIGURES = {"power_timeline": "Power timeline"}
LATENCY_ROWS = {
    "ttft_s": "time to first token",
    "itl_s": "inter-token latency",
    "tpot_s": "time per output token",
    "e2e_latency_s": "end-to-end latency",
}
FILTERS = {
    "task": "Task",
    "class": "Class",
    "reasoning": "Reasoning",
    "backend": "Backend",
    "status": "Status",
}
# The paper's comparison figures (results/figures/{name}.png), by file stem, in page order.
COMPARISON_FIGURES = {
    "energy_per_1000_queries": "Energy per 1,000 queries, ranked within each rating group",
    "energy_per_token_vs_throughput": "Energy per token against generated tokens per second",
    "prefill_decode": "Prefill and decode energy, per query and per token",
    "latency_percentiles": "Latency percentiles of served models",
}
INITIAL_SORT = "rank"  # per rating group, by the figure the stars rate
ASSETS = ("site.css", "leaderboard.js", "compare.js")


def format_number(value, digits: int = 3) -> str:
    """A figure for people: ``digits`` significant digits, thousands separated; ``—`` when
    unknown."""
    if value is None:
        return "—"
    if isinstance(value, list):  # a check's range limit: [idle W, 1.1 x power limit W]
        return "[" + ", ".join(format_number(v, digits) for v in value) + "]"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    return significant(value, digits)


def format_count(value: int | None) -> str:
    """A count for people, three significant digits and a unit: 586k, 8.03 B; ``—`` when
    unknown."""
    if value is None:
        return "—"
    for unit, size in ((" B", 10**9), (" M", 10**6), ("k", 10**3)):
        if float(f"{value / size:.3g}") >= 1:  # 999,999 reads 1 M, not 1,000k
            return significant(value / size) + unit
    return str(value)


def check_result(passed: bool | None) -> str:
    return {True: "pass", False: "fail"}.get(passed, "not evaluated")


def flatten(document, prefix: str = "") -> list[tuple[str, str]]:
    """A nested document as (dotted key, text) rows, for the configuration and provenance."""
    if isinstance(document, dict) and document:
        return [
            row
            for key, value in document.items()
            for row in flatten(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(document, list) and any(isinstance(v, (dict, list)) for v in document):
        return [row for i, value in enumerate(document) for row in flatten(value, f"{prefix}[{i}]")]
    if isinstance(document, list):
        text = ", ".join(map(str, document)) or "none"
    elif document is None or document == {}:
        text = "none"
    elif isinstance(document, bool):
        text = str(document).lower()
    else:
        text = str(document)
    return [(prefix, text)]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("energybench.publish.site", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(num=format_number, check_result=check_result, quantity=format_count)
    # The page's data is strict JSON: JSON.parse, not just a script tag, must read it.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "allow_nan": False}
    return env


def palette_css() -> str:
    """The paper figures' and labels' colours (energybench.publish.paper.palette) as CSS custom
    properties: one per energy component, one per star rating; in the dark scheme, the star
    colours that keep text contrast on a dark page."""
    colors = {f"color-{name}": color for name, color in COMPONENT_COLORS.items()}
    colors.update(_star_properties(STAR_COLORS))
    return (
        _root(colors)
        + "@media (prefers-color-scheme: dark) {\n"
        + _root(_star_properties(STAR_COLORS_DARK))
        + "}\n"
    )


def _star_properties(colors: dict) -> dict[str, str]:
    return {f"star-{stars or 'unrated'}": color for stars, color in colors.items()}


def _root(properties: dict[str, str]) -> str:
    return (
        ":root {\n"
        + "".join(f"  --{name}: {color};\n" for name, color in properties.items())
        + "}\n"
    )


PHASE_FIGURES = {  # the model page's phases table: figure, its scale to the column's unit
    "prefill_j_per_query": 1.0,
    "decode_j_per_query": 1.0,
    "prefill_j_per_prompt_token": 1000.0,
    "decode_j_per_generated_token": 1000.0,
}


def _phase_rows(report: Report) -> list[tuple[str, dict]]:
    """Per component of the split, prefill and decode per query and per token (mJ), or why
    each is unknown: the split's own reason, else no query or token counted."""
    mean = report.phases.mean if report.phases else {}
    rows = []
    for component in COMPONENTS:
        if component not in mean:
            continue
        per_unit = report.phases_per_unit.get(component, {})
        reasons = {phase: getattr(mean[component], phase).reason for phase in ("prefill", "decode")}
        figures = {}
        for figure, scale in PHASE_FIGURES.items():
            value = per_unit.get(figure)
            figures[figure] = figure_of(
                None if value is None else value * scale,
                reason=reasons[figure.split("_")[0]] or "no query or token counted",
            )
        rows.append((component, figures))
    return rows


def _write(path: Path, text: str) -> None:
    """Write into the private staging folder (the folder as a whole is swapped in atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _copy(source: Path, staging: Path, relative: str) -> str:
    target = staging / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return relative


def _by_model(paths, key_of) -> dict[str, list[Path]] | None:
    """Files grouped by the model they belong to; None when none were made at all."""
    if paths is None:
        return None
    grouped: dict[str, list[Path]] = {}
    for path in map(Path, paths):
        grouped.setdefault(key_of(path), []).append(path)
    return grouped


def _run_files(entry: dict, staging: Path, labels: dict | None, figures: dict | None) -> dict:
    """Copy one model's raw report, timeline, label and figures into the site; say what is
    missing and why. The raw files are the shown attempt's, as its figures are (an earlier
    attempt's in place of a failed rerun, which the page's note names)."""
    page, report_path = entry["page"], entry["report_path"]
    folder = shown_folder(report_path, entry["report"].note)
    raw = {
        "report": _copy(folder / report_path.name, staging, f"runs/{page}/benchmark_report.json"),
        "timeline": None,
        "timeline_reason": None,
    }
    timeline = entry["report"].timeline_file
    if timeline and (folder / timeline).exists():
        raw["timeline"] = _copy(folder / timeline, staging, f"runs/{page}/power_timeline.csv")
    else:
        raw["timeline_reason"] = entry["failure"] or "the run recorded none"
    label, label_reason = None, "the labels were not made"
    if labels is not None:
        label_reason = "none was drawn for this model"
        drawn = {path.suffix: path for path in labels.get(entry["key"], [])}
        for suffix in (".svg", ".png"):
            if suffix in drawn:
                label, label_reason = _copy(drawn[suffix], staging, f"labels/{page}{suffix}"), None
                break
    drawn = {path.stem: path for path in (figures or {}).get(entry["key"], [])}
    shown = [
        {
            "name": name,
            "title": title,
            "path": _copy(drawn[name], staging, f"figures/{page}/{name}{drawn[name].suffix}"),
        }
        for name, title in RUN_FIGURES.items()
        if name in drawn
    ]
    return {
        "raw": raw,
        "label": label,
        "label_reason": label_reason,
        "figures": shown,
        "missing_figures": [t.lower() for n, t in RUN_FIGURES.items() if n not in drawn],
        "figures_reason": "the per-run figures were not made"
        if figures is None
        else "the figure rules drew none of these for this model",
    }


def _comparison_files(figures: list[str | Path] | None, staging: Path) -> list[dict]:
    """Copy the comparison figures into the site, in page order, each with its title."""
    order = list(COMPARISON_FIGURES)
    paths = sorted(
        map(Path, figures or []),
        key=lambda path: (order.index(path.stem) if path.stem in order else len(order), path.stem),
    )
    return [
        {
            "title": COMPARISON_FIGURES.get(path.stem, path.stem.replace("_", " ")),
            "path": _copy(path, staging, f"figures/comparison/{path.name}"),
        }
        for path in paths
    ]


def _compare_data(entry: dict, files: dict) -> dict:
    """What the comparison page draws for one model (embedded as JSON, no fetch())."""
    keep = (
        "key",
        "page",
        "id",
        "status",
        "failure",
        "class",
        "task",
        "reasoning",
        "backend",
        "quantization",
        "rating",
        "gpu_wh_per_1000_queries",
        "total_wh_per_1000_queries",
        "joules_per_token",
        "completion_tokens_per_second",
        "failed_checks",
    )
    return {
        **{k: entry[k] for k in keep},
        "label": files["label"],
        "figures": [{"title": f["title"], "path": f["path"]} for f in files["figures"]],
    }


def _replace_directory(staging: Path, output: Path) -> None:
    """Swap the finished site in for the old one: a reader sees one whole site or the other."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        os.replace(output, old)
    os.replace(staging, output)
    if old is not None:
        shutil.rmtree(old)


def build_site(
    collection: str | Path,
    output: str | Path,
    *,
    ratings: str | Path | None = None,
    labels: list[str | Path] | None = None,
    figures: list[str | Path] | None = None,
    comparisons: list[str | Path] | None = None,
    methodology: list[str | Path] | None = None,
) -> Path:
    """Build the site into ``output`` from the report collection
    (energybench.publish.paper.stored). The ratings table, the labels (``{model}.svg`` or
    ``.png``), the per-run figures (``{model}/power_timeline.png``), the comparison figures
    (``{name}.png``) and the methodology docs (Markdown files) are shown where given; the
    pages say what is missing and why."""
    output = Path(output)
    ratings_table = read_ratings(ratings)
    entries, left_out = collect(collection, ratings_table)
    env = environment()
    labels_by_model = _by_model(labels, lambda path: path.stem)
    figures_by_model = _by_model(figures, lambda path: path.parent.name)
    finished = [e["finished_at"] for e in entries if e["finished_at"]]
    common = {
        "version": __version__,
        "entries": entries,
        "left_out": left_out,
        "estimate_share": f"{ESTIMATE_SHARE:.0%}",
        "newest": max(finished, default=None),
        "calibration": calibration(entries, ratings_table),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        assets = resources.files("energybench.publish.site").joinpath("assets")
        for name in ASSETS:
            _write(staging / "assets" / name, assets.joinpath(name).read_text())
        _write(staging / "assets/palette.css", palette_css())
        compare = []
        for entry in entries:
            files = _run_files(entry, staging, labels_by_model, figures_by_model)
            compare.append(_compare_data(entry, files))
            report = entry["report"]
            latency = [
                (label, report.latency.metric(key))
                for key, label in LATENCY_ROWS.items()
                if report.latency and report.latency.metric(key)
            ]
            page = env.get_template("model.html").render(
                **common,
                **files,
                root="../",
                page="model",
                e=entry,
                report=report,
                components=COMPONENTS,
                phases=_phase_rows(report),
                latency=latency,
                config_rows=flatten(report.config),
                provenance_rows=flatten(report.provenance.to_dict()),
            )
            _write(staging / "models" / f"{entry['page']}.html", page)
        index = env.get_template("index.html").render(
            **common,
            root="",
            page="index",
            initial_sort=INITIAL_SORT,
            filters=list(FILTERS.items()),
            groups=[
                (group, group_title(group)) for group in dict.fromkeys(e["group"] for e in entries)
            ],
            filter_options={name: sorted({str(e[name]) for e in entries}) for name in FILTERS},
        )
        _write(staging / "index.html", index)
        _write(staging / "leaderboard.csv", leaderboard_csv(entries))
        _write(
            staging / "compare.html",
            env.get_template("compare.html").render(
                **common, root="", page="compare", data=compare
            ),
        )
        _write(
            staging / "figures.html",
            env.get_template("figures.html").render(
                **common,
                root="",
                page="figures",
                figures=_comparison_files(comparisons, staging),
                made=comparisons is not None,
            ),
        )
        _write(
            staging / "methodology.html",
            env.get_template("methodology.html").render(
                **common,
                root="",
                page="methodology",
                documents=render_methodology(methodology or []),
            ),
        )
        shared_mode(staging, directory=True)  # mkdtemp's 0700: the umask's mode, as elsewhere
        _replace_directory(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output / "index.html"
