"""The files an AI Energy Score submission carries per run, and a campaign's bundle of them.

Per run AES's container writes ``GPU_ENERGY_WH.txt`` (GPU energy in Wh, two decimals) and
``GPU_ENERGY_SUMMARY.json`` beside ``benchmark_report.json`` (its ``summarize_gpu_wh.py``,
``ai_energy_benchmarks`` format: all energy under ``decode_wh``). We write the same bytes.
A run whose GPU energy is unknown (failed, CPU-only, external endpoint) has nothing to submit:
the bundle leaves it out and its manifest says why. Both take the report every other output
shows (energybench.publish.paper.stored.shown_run): where a rerun failed after a success, the
earlier attempt's, and the manifest carries its note.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from energybench.run.files import json_text, write_atomic
from energybench.run.report import Report

SUMMARY_FORMAT = "ai_energy_benchmarks"


def submission_files(report: Report) -> dict[str, str]:
    """The two files AES's summarizer writes for ``report``. Where the GPU energy is unknown
    the text file says ``nan``, as AES's summarizer writes, and the JSON file ``null`` (strict
    JSON; such a run is left out of a submission, see :func:`skip_reason`)."""
    gpu_wh = report.energy.gpu_energy_wh
    total = None if gpu_wh is None else float(gpu_wh)
    summary = {
        "units": "Wh",
        "total": total,
        "format": SUMMARY_FORMAT,
        "preprocess_wh": 0.0,
        "prefill_wh": 0.0,
        "decode_wh": None if total is None else round(total, 2),
    }
    return {
        "GPU_ENERGY_WH.txt": "nan\n" if total is None else f"{total:.2f}\n",
        "GPU_ENERGY_SUMMARY.json": json_text(summary).rstrip("\n"),
    }


def write_run_files(report: Report, output_dir: str | Path) -> None:
    """Write AES's two files for one run's shown report into ``output_dir`` (its run
    directory), atomically."""
    for name, text in submission_files(report).items():
        write_atomic(Path(output_dir) / name, text)


def skip_reason(report: Report) -> str | None:
    """Why a run cannot be submitted, or ``None`` when it can."""
    if not report.succeeded:
        return f"run {report.status}: {report.error.message if report.error else ''}"
    if report.energy.gpu_energy_wh is None:
        return f"GPU energy unknown: {report.energy.gpu.reason}"
    return None


def bundle(runs: list[tuple[Report, Path]], output: str | Path) -> dict:
    """Zip each submittable run (its shown report and the file it was read from) as
    ``<model>/`` (that report and AES's two files) with a ``manifest.json`` of what is in,
    what is left out and why, and the note of each run shown in place of a failed rerun,
    atomically; return the manifest."""
    manifest = {"included": [], "skipped": {}, "notes": {}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for report, path in sorted(runs, key=lambda run: run[0].model):
            model = report.model
            if report.note:
                manifest["notes"][model] = report.note
            reason = skip_reason(report)
            if reason:
                manifest["skipped"][model] = reason
                continue
            manifest["included"].append(model)
            archive.writestr(f"{model}/benchmark_report.json", path.read_text())
            for name, text in submission_files(report).items():
                archive.writestr(f"{model}/{name}", text)
        archive.writestr("manifest.json", json_text(manifest))
    write_atomic(output, buffer.getvalue())
    return manifest
