"""bench/gpu_validation.py end to end on the CPU, against the NVML stand-in's simulated GPU
(70 W idle, 400 W under load, counter refreshed every 20 ms, 1 s averaged reading), with
every duration scaled down. On this shared machine scheduling delays of tens of ms blur the
scaled windows, so the test checks that every figure is measured and that the figures the
stand-in makes certain come out right; the limits themselves are for a real GPU."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIGURES = [
    *(
        f"{reading}_update_interval_{state}"
        for state in ("idle", "load")
        for reading in ("counter", "instant_power", "averaged_power")
    ),
    "instant_power_t90",
    "averaged_power_t90",
    *(f"counter_vs_integral_{s}s" for s in (1, 5, 10, 30)),
    *(f"short_window_{ms}ms_error" for ms in (20, 50, 100, 200, 500)),
    "idle_sub_window_spread",
    "repeated_prefill_reproducibility",
    "single_pass_prefill_vs_repeated",
    "trial_cv",
    "thermal_drift",
    "after_the_fact_vs_live",
    "load_seconds_from_process_start",
    "load_counter_vs_integral",
    "load_gpu_net",
    "nvml_peak_memory_rise",
    "framework_peak_allocated",
    "host_peak_memory",
]


def test_gpu_validation_runs_against_the_stand_in(tmp_path):
    out = tmp_path / "validation.json"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench/gpu_validation.py"),
            "--stand-in",
            "--time-scale",
            "0.1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    result = json.loads(out.read_text())
    figures = {f["name"]: f for f in result["figures"]}
    assert list(figures) == FIGURES
    for name in FIGURES:
        assert name in run.stdout
    assert result["failed"] == [f for f in FIGURES if figures[f]["passed"] is False]
    assert run.returncode == (1 if result["failed"] else 0)
    # what the simulated GPU makes certain
    assert figures["counter_update_interval_load"]["passed"] is True
    assert figures["idle_sub_window_spread"]["passed"] is True
    idle_w = float(figures["idle_sub_window_spread"]["detail"].split()[1])
    assert idle_w == pytest.approx(70.0, rel=0.03)
    assert figures["counter_vs_integral_30s"]["value"] == pytest.approx(0.0, abs=0.05)
    assert figures["after_the_fact_vs_live"]["value"] == pytest.approx(0.0, abs=0.05)
    assert figures["trial_cv"]["value"] < 0.1
    # the load as its own window, split against the idle baseline, and the peaks: the
    # stand-in holds exactly what the step allocates, and no framework reads it
    assert figures["load_gpu_net"]["passed"] is True
    assert figures["load_seconds_from_process_start"]["value"] > 0
    assert figures["nvml_peak_memory_rise"]["value"] == pytest.approx(1.0)
    assert figures["framework_peak_allocated"]["passed"] is None
    assert figures["host_peak_memory"]["value"] > 0
    assert result["meter"]["devices"][0]["name"] == "Simulated H100"
