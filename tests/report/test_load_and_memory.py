"""The model load as its own phase, and the run's peak memory (issue 22, items 3 and 4)."""

import os
import subprocess
import time

import pytest
from fake_nvml import FakeGpu, FakeNvml
from test_report import PROVENANCE, trial
from test_results import IDLE, window

from energybench.run.backends import RUN_USED_NO_GPU
from energybench.run.meters import EnergyMonitor
from energybench.run.meters.memory import PeakMemory, gpu_peaks, host_peak
from energybench.run.report import Report, validate_report
from energybench.run.report_builder import completed_report, load_section, memory_section

CONFIG = {"model": "m", "num_prompts": 4, "measurement": {"carbon_intensity_g_per_kwh": 400}}


def loaded(gpu=1500.0, process_start=-1.5):
    """A load metered from 0 s to 20 s (the process started ``process_start`` s before)."""
    return load_section(window("load", 20.0, gpu=gpu, cpu=100.0, ram=30.0), IDLE, {}, process_start)


def test_the_load_is_timed_from_process_start_and_split_like_any_window():
    load = loaded()
    assert (load.duration_s, load.metered_s, load.before_meters_s) == (21.5, 20.0, 1.5)
    gpu = load.components["gpu"]  # against the run's idle power: 50 W over the 20 s metered
    assert (gpu.gross_joules, gpu.idle_joules, gpu.net_joules) == (1500.0, 1000.0, 500.0)
    total = load.total
    assert (total.gross_joules, total.idle_joules, total.net_joules) == (1630.0, 1060.0, 570.0)
    below = loaded(gpu=900.0).components["gpu"]
    assert below.net_joules is None and "below the idle energy" in below.net_reason


def test_an_unknown_process_start_leaves_the_load_time_null_with_why():
    load = load_section(
        window("load", 3.0),
        IDLE,
        {"gpu": RUN_USED_NO_GPU},
        None,
        "the process's start time is unreadable: no /proc",
    )
    assert load.duration_s is None and load.before_meters_s is None
    assert "unreadable" in load.reason and load.metered_s == 3.0
    assert load.components["gpu"].gross_joules is None
    assert load.components["gpu"].reason == RUN_USED_NO_GPU
    assert load.total.components == ["cpu", "ram"]


def test_the_load_never_enters_the_inference_figures():
    trials = [trial(0, 300.0), trial(1, 310.0)]
    plain = completed_report(CONFIG, trials, IDLE, {}, 400.0, None, PROVENANCE)
    with_load = completed_report(
        CONFIG,
        trials,
        IDLE,
        {},
        400.0,
        None,
        PROVENANCE,
        load=loaded(gpu=1e6),
        memory=memory_section(
            {"gpu0": 2**30},
            None,
            {
                "framework_allocated_bytes": 2**29,
                "framework_reserved_bytes": 2**30,
                "framework_reason": None,
            },
            PeakMemory(2**31, "getrusage"),
        ),
    )
    document = with_load.to_dict()
    validate_report(document)
    assert document["energy"] == plain.to_dict()["energy"]
    assert document["metrics"] == plain.to_dict()["metrics"]
    assert document["load"]["components"]["gpu"]["gross_joules"] == 1e6
    assert Report.from_dict(document) == with_load


def test_a_memory_figure_that_could_not_be_read_is_null_with_its_reason():
    memory = memory_section(
        None,
        "no GPU metered",
        {
            "framework_allocated_bytes": None,
            "framework_reserved_bytes": None,
            "framework_reason": "the model ran on the CPU",
        },
        PeakMemory(None, None, "no /proc"),
    )
    document = completed_report(
        CONFIG, [trial(0, 300.0)], IDLE, {}, 400.0, None, PROVENANCE, memory=memory
    ).to_dict()
    validate_report(document)
    assert document["memory"]["gpu_used_bytes"] is None
    assert document["memory"]["host_reason"] == "no /proc"
    document["memory"]["host_reason"] = None  # a null without its reason is refused
    with pytest.raises(Exception, match="host_reason|not valid"):
        validate_report(document)


def test_gpu_peaks_are_each_devices_highest_sample_and_say_which_never_answered():
    records = [
        {"t": 0.0, "device": "gpu0", "memory_used_bytes": 5},
        {"t": 0.1, "device": "gpu0", "memory_used_bytes": 9},
        {"t": 0.1, "device": "gpu1", "memory_used_bytes": None},
        {"t": 0.2, "device": "gpu0", "memory_used_bytes": 7},
    ]
    peaks, reason = gpu_peaks(records, ["gpu0", "gpu1"])
    assert peaks == {"gpu0": 9, "gpu1": None} and "gpu1" in reason
    assert gpu_peaks(records, []) == (None, "no GPU metered")


def test_nvml_samples_the_memory_each_gpu_has_in_use(tmp_path):
    gpu = FakeGpu("GPU-a")
    with EnergyMonitor.create(nvml=FakeNvml([gpu]), environ={}, powercap_root=tmp_path) as monitor:
        time.sleep(0.15)
        gpu.memory_used_bytes = 3 * 2**30
        time.sleep(0.15)
        gpu.memory_used_bytes = 2**30
        time.sleep(0.15)
        records = monitor.timeline()
    assert gpu_peaks(records, ["gpu0"]) == ({"gpu0": 3 * 2**30}, None)


def test_a_container_reads_its_cgroup_peak_and_a_process_its_own(tmp_path):
    (tmp_path / "memory.peak").write_text("123456789\n")
    assert host_peak(in_container=True, cgroup=tmp_path) == PeakMemory(
        123456789, "container cgroup memory.peak"
    )
    missing = host_peak(in_container=True, cgroup=tmp_path / "none")
    assert missing.bytes > 0 and "no cgroup peak" in missing.reason
    own = host_peak(in_container=False)
    assert own.bytes > 10 * 2**20 and own.reason is None  # this interpreter holds > 10 MiB


def test_the_process_start_is_this_process_age_before_the_monitor_opened(tmp_path):
    with EnergyMonitor.create(nvml=FakeNvml(), environ={}, powercap_root=tmp_path) as monitor:
        start, reason = monitor.process_start_s()
        now = monitor.now()
    elapsed = subprocess.run(
        ["ps", "-o", "etimes=", "-p", str(os.getpid())], check=True, capture_output=True, text=True
    ).stdout
    assert reason is None and start < 0
    assert now - start == pytest.approx(int(elapsed), abs=1.5)  # ps counts whole seconds


def test_the_tables_and_the_site_show_the_load_and_the_peaks():
    from energybench.publish.paper.aggregate import report_row
    from energybench.publish.site.entries import model_entry

    memory = memory_section(
        {"gpu0": 2**30, "gpu1": 2**31},
        None,
        {
            "framework_allocated_bytes": 2**29,
            "framework_reserved_bytes": 2**30,
            "framework_reason": None,
        },
        PeakMemory(3 * 2**30, "getrusage"),
    )
    report = completed_report(
        CONFIG, [trial(0, 300.0)], IDLE, {}, 400.0, None, PROVENANCE, load=loaded(), memory=memory
    )
    row = report_row(report)
    assert (row["load_seconds"], row["load_gross_joules"], row["load_net_joules"]) == (
        21.5,
        1630.0,
        570.0,
    )
    assert (row["peak_gpu_used_bytes"], row["peak_host_bytes"]) == (3 * 2**30, 3 * 2**30)
    entry = model_entry(report, None)
    assert entry["load_seconds"]["value"] == 21.5 and entry["peak_gpu_used_gib"]["value"] == 3.0
    older = model_entry(
        completed_report(CONFIG, [trial(0, 300.0)], IDLE, {}, 400.0, None, PROVENANCE), None
    )
    assert (
        older["peak_host_gib"]["value"] is None
        and "not in the report" in older["peak_host_gib"]["reason"]
    )


def test_a_sampled_process_tree_above_the_largest_process_is_the_host_peak():
    own = host_peak(in_container=False).bytes
    tree = [
        {"t": 0.0, "device": "ram-estimate", "resident_gb": own * 3 / 1e9},
        {"t": 0.1, "device": "ram-estimate", "resident_gb": None},
    ]
    peak = host_peak(in_container=False, records=tree)
    assert peak.bytes == pytest.approx(own * 3, rel=1e-6) and "process tree" in peak.source
    below = host_peak(in_container=False, records=[{"resident_gb": 1e-6}])
    assert below.source.startswith("getrusage")
