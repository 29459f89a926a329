"""EnergyMonitor on a machine without GPU or RAPL (like CI), and the CPU/RAM estimates."""

import os
import time

import pytest
from fake_nvml import FakeGpu, FakeNvml, no_gpu

from energybench.run.energy import check_window_length
from energybench.run.meters import (
    ComponentEnergy,
    EnergyMonitor,
    IdleBaseline,
    IdlePower,
    WindowMeasurement,
)
from energybench.run.energy.phases import split_window_phases
from energybench.run.meters.base import Meter
from energybench.run.meters.cooldown import temperatures_settled
from energybench.run.meters.estimate import CpuEstimateMeter, RamEstimateMeter
from energybench.run.meters.sampler import Sampler
from energybench.run.meters.timeline import Timeline

TICKS = os.sysconf("SC_CLK_TCK")


PAGE = os.sysconf("SC_PAGE_SIZE")


def fake_proc(root, processes):
    """A /proc with ``processes``: pid -> (ppid, utime ticks, stime ticks, rss bytes)."""
    root.mkdir(exist_ok=True)
    for pid, (ppid, utime, stime, rss) in processes.items():
        (root / str(pid)).mkdir(exist_ok=True)
        # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        # utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
        (root / str(pid) / "stat").write_text(
            f"{pid} (py thon) S {ppid} 1 1 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 1 1 "
            f"{rss // PAGE} 0\n"
        )
    (root / "self").mkdir(exist_ok=True)  # not a pid: ignored
    return root


def topology(root, siblings):
    for cpu, group in enumerate(siblings):
        (root / f"cpu{cpu}" / "topology").mkdir(parents=True)
        (root / f"cpu{cpu}" / "topology" / "thread_siblings_list").write_text(group + "\n")
    return root


def test_cpu_estimate_counts_the_runs_processes_and_halves_smt_threads(tmp_path):
    proc = fake_proc(tmp_path / "proc", {100: (1, 0, 0, 0), 101: (100, 0, 0, 0), 200: (1, 0, 0, 0)})
    smt = topology(tmp_path / "cpu", ["0,2", "1,3", "0,2", "1,3"])  # 2 cores, 4 threads
    meter = CpuEstimateMeter(
        "RAPL unreadable: test", watts_per_core=12.0, root_pid=100, proc=proc, topology=smt
    )
    meter.begin_window("w", 0.0)
    # the run (100 and its child 101) uses 4 CPU-seconds; process 200 is someone else's
    fake_proc(
        proc, {100: (1, 3 * TICKS, 0, 0), 101: (100, 0, TICKS, 0), 200: (1, 50 * TICKS, 0, 0)}
    )
    energy = meter.end_window("w", 2.0, Timeline())
    assert energy.joules == pytest.approx(12.0 * 4 * 0.5)  # a logical CPU is half a core
    assert energy.estimated and energy.source == "estimate"
    assert energy.reason == "RAPL unreadable: test"
    assert energy.detail["physical_cores_per_logical_cpu"] == 0.5
    assert energy.detail["average_busy_cpus"] == pytest.approx(2.0)
    assert "assumes" in energy.detail and "model" in energy.detail


def test_ram_estimate_charges_the_memory_the_run_holds_not_the_host(tmp_path):
    # A 2 TB host (MemTotal) is irrelevant: the run holds 16 GB.
    proc = fake_proc(tmp_path / "proc", {100: (1, 0, 0, 12 * 10**9), 101: (100, 0, 0, 4 * 10**9)})
    meter = RamEstimateMeter("no dram domain", root_pid=100, proc=proc)
    timeline = Timeline()
    meter.begin_window("w", 0.0)
    for tick in range(101):
        timeline.extend(meter.sample(tick / 10))
    energy = meter.end_window("w", 10.0, timeline)
    assert energy.joules == pytest.approx(0.375 * 16 * 10, rel=1e-3)  # 3 W per 8 GB x 16 GB x 10 s
    assert energy.estimated and energy.detail["resident_gb_max"] == pytest.approx(16.0, rel=1e-3)
    assert "assumes" in energy.detail


@pytest.fixture
def monitor(tmp_path):
    with EnergyMonitor.create(
        powercap_root=tmp_path / "no-powercap", nvml=no_gpu(), environ={}
    ) as m:
        yield m


def test_window_without_gpu_or_rapl(monitor):
    monitor.begin_window("run")
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        sum(i * i for i in range(10_000))
    window = monitor.end_window("run")
    assert window.duration_s == pytest.approx(0.6, abs=0.1)
    gpu, cpu, ram = (window.components[c] for c in ("gpu", "cpu", "ram"))
    assert gpu.joules is None and "NVML unavailable" in gpu.reason and gpu.source is None
    assert cpu.estimated and cpu.joules > 0 and "does not exist" in cpu.reason
    assert ram.estimated and ram.joules > 0
    as_dict = window.to_dict()
    assert set(as_dict) == {"name", "start_s", "end_s", "duration_s", "components"}
    assert set(as_dict["components"]["gpu"]) == {
        "component",
        "joules",
        "source",
        "estimated",
        "reason",
        "devices",
        "notes",
        "detail",
    }


def test_sampler_reaches_ten_hertz(monitor):
    time.sleep(1.0)
    samples = [r for r in monitor.timeline() if r["device"] == "cpu-estimate"]
    assert len(samples) >= 8
    assert all({"t", "device", "component", "power_w"} <= set(r) for r in samples)
    assert monitor.describe()["sampler"]["achieved_hz"] >= 8


def test_idle_baseline_and_net_energy(tmp_path):
    # A fixed /proc: the run holds 8 GB throughout, so RAM's net is zero whatever the host.
    proc = fake_proc(tmp_path / "proc", {os.getpid(): (1, 0, 0, 8 * 10**9)})
    meters = {
        "gpu": EnergyMonitor.create(powercap_root=tmp_path, nvml=no_gpu(), environ={}).meters[
            "gpu"
        ],
        "ram": RamEstimateMeter("no dram domain", proc=proc),
    }
    monitor = EnergyMonitor(meters, 10.0, time.monotonic(), time.time())
    try:
        idle = monitor.measure_idle(0.3)
        monitor.begin_window("run")
        time.sleep(0.2)
        window = monitor.end_window("run")
    finally:
        monitor.close()
    # Its window, on the clock of the windows after it: the timeline figure draws it.
    assert idle.end_s - idle.start_s == pytest.approx(idle.duration_s)
    assert 0 <= idle.start_s < idle.end_s <= window.start_s
    assert idle.to_dict()["start_s"] == idle.start_s
    assert idle.components["gpu"].watts is None and "NVML" in idle.components["gpu"].reason
    ram_w = idle.components["ram"].watts
    assert ram_w == pytest.approx(3.0)
    net = window.net(idle)
    assert net["ram"].idle_j == pytest.approx(ram_w * window.duration_s)
    assert net["ram"].net_j == pytest.approx(0.0, abs=1e-9)  # nothing dynamic, never None
    assert net["gpu"].net_j is None and net["gpu"].reason == "gross energy unknown"
    assert {
        "component",
        "watts",
        "source",
        "estimated",
        "reason",
        "devices",
        "per_device_w",
        "uncertainty_w",
        "sub_window_w",
    } == set(idle.to_dict()["components"]["ram"])


def test_windows_overlap_and_misuse_is_an_error(monitor):
    monitor.begin_window("outer")
    monitor.begin_window("inner")
    inner = monitor.end_window("inner")
    outer = monitor.end_window("outer")
    assert outer.start_s <= inner.start_s <= inner.end_s <= outer.end_s
    with pytest.raises(KeyError, match="never begun"):
        monitor.end_window("outer")
    monitor.begin_window("again")
    with pytest.raises(ValueError, match="already open"):
        monitor.begin_window("again")


def test_monitor_with_gpus_samples_them(tmp_path):
    nvml = FakeNvml([FakeGpu("GPU-aaaa", power_w=250.0), FakeGpu("GPU-bbbb", power_w=150.0)])
    with EnergyMonitor.create(
        gpu_devices=[1], powercap_root=tmp_path, nvml=nvml, environ={"CUDA_VISIBLE_DEVICES": "1,0"}
    ) as monitor:
        monitor.begin_window("w")
        time.sleep(0.3)
        window = monitor.end_window("w")
        described = monitor.describe()["meters"]["gpu"]
    gpu = window.components["gpu"]
    assert gpu.devices == ["gpu1"]
    assert described["devices"][0]["uuid"] == "GPU-aaaa"
    # the stand-in counter does not move, so the energy is the integrated 250 W
    assert gpu.source == "nvml_power_integral"
    assert gpu.joules == pytest.approx(250.0 * window.duration_s, rel=1e-6)
    assert nvml.initialized == 0, "close() shuts NVML down"


class FailingMeter(Meter):
    component = "gpu"

    def _begin(self, name, t):
        pass

    def _end(self, name, start, end, timeline):
        raise AssertionError("not used")

    def sample(self, t):
        raise OSError("device vanished")

    def describe(self):
        return {}


def test_sampler_survives_a_failing_meter():
    timeline = Timeline()
    ram = RamEstimateMeter("test")  # this very process, from the real /proc
    sampler = Sampler([FailingMeter(), ram], timeline, time.monotonic, hz=50)
    sampler.start()
    time.sleep(0.2)
    sampler.stop()
    assert "device vanished" in sampler.describe()["errors"]["gpu"]
    assert len(timeline.records()) >= 5


def window(name, duration, **components):
    return WindowMeasurement(
        name, 0.0, duration, {c: ComponentEnergy(c, **kw) for c, kw in components.items()}
    )


def test_window_checks():
    gpu = {
        "joules": 4000.0,
        "source": "nvml",
        "detail": {
            "power_limit_w": 700.0,
            "counter_j": 4000.0,
            "integral_j": 3900.0,
            "counter_resolution_j": 80.0,
            "integral_resolution_j": 40.0,
        },
    }
    cpu = {"joules": 100.0, "source": "estimate", "estimated": True}
    idle = IdleBaseline(
        10.0, {"gpu": IdlePower("gpu", 70.0, "nvml", False, None, ["gpu0"], {"gpu0": 70.0})}
    )
    checks = {c.name: c for c in window("w", 10.0, gpu=gpu, cpu=cpu).checks(idle)}
    assert set(checks) == {
        "window_long_enough",
        "gpu_power_in_range",
        "gpu_counter_matches_power_integral",
    }
    assert checks["gpu_power_in_range"].passed and checks["gpu_power_in_range"].value == 400.0
    assert checks["gpu_counter_matches_power_integral"].passed
    short = {c.name: c for c in window("w", 2.0, gpu=gpu).checks(idle)}
    assert short["window_long_enough"].passed is False
    assert short["gpu_power_in_range"].passed is False  # 2000 W > 1.1 × 700 W


def test_split_window_phases():
    prefill = window(
        "p",
        1.0,
        gpu={"joules": 300.0, "source": "nvml", "detail": {"resolution_j": 0.001}},
        cpu={"joules": 20.0, "source": "rapl"},
    )
    generate = window(
        "g",
        4.0,
        gpu={"joules": 1500.0, "source": "nvml", "detail": {"resolution_j": 0.001}},
        cpu={"joules": 19.0, "source": "rapl"},
    )
    phases = split_window_phases(prefill, generate)
    assert phases["gpu"].decode == pytest.approx(1200.0) and phases[
        "gpu"
    ].resolution == pytest.approx(0.002)
    assert phases["cpu"].decode is None and "negative" in phases["cpu"].reason
    assert phases["latency"].decode == pytest.approx(3.0) and phases["latency"].unit == "s"


def test_window_from_timeline_integrates_a_sub_window(tmp_path):
    nvml = FakeNvml([FakeGpu("GPU-aaaa", power_w=250.0)])
    with EnergyMonitor.create(powercap_root=tmp_path, nvml=nvml, environ={}) as monitor:
        start = monitor.now()
        time.sleep(0.5)
        end = monitor.now()
        time.sleep(0.2)
        steady = monitor.window_from_timeline("steady", start, end)
        with pytest.raises(ValueError, match="future"):
            monitor.window_from_timeline("later", start, monitor.now() + 10)
    gpu = steady.components["gpu"]
    assert gpu.source == "nvml_power_integral"
    assert gpu.joules == pytest.approx(250.0 * (end - start), rel=1e-6)
    assert steady.components["ram"].estimated


def test_temperatures_settled():
    flat = [{"t": t / 10, "device": "gpu0", "temperature_c": 50} for t in range(60)]
    rising = [{"t": t / 10, "device": "gpu1", "temperature_c": 40 + t / 10} for t in range(60)]
    assert temperatures_settled(flat + rising, 5.9, 5.0, 1.0) == {"gpu0": True, "gpu1": False}
    assert temperatures_settled(flat[:20], 1.9, 5.0, 1.0) == {
        "gpu0": False
    }  # not sampled long enough
    assert (
        temperatures_settled([{"t": 1.0, "device": "cpu-estimate", "power_w": 3.0}], 1.0, 5.0, 1.0)
        == {}
    )


class WarmingGpu(FakeGpu):
    """Heats at 100 °C/s: any two readings 10 ms apart differ by more than 1 °C."""

    @property
    def temperature_c(self):
        return 40 + 100 * time.monotonic()

    @temperature_c.setter
    def temperature_c(self, value):
        pass


def test_cool_down(tmp_path, monitor):
    assert monitor.cool_down(5.0)["settled"] is None  # no GPU: returns at once
    with EnergyMonitor.create(
        powercap_root=tmp_path, nvml=FakeNvml([FakeGpu("GPU-a")]), environ={}
    ) as steady:
        result = steady.cool_down(3.0, settle_s=0.3, poll_s=0.05)
    assert result["settled"] is True and result["temperatures_c"] == {"gpu0": 41}
    with EnergyMonitor.create(
        powercap_root=tmp_path, nvml=FakeNvml([WarmingGpu("GPU-a")]), environ={}
    ) as warming:
        result = warming.cool_down(0.5, settle_s=0.3, poll_s=0.05)
    assert result["settled"] is False and "gpu0" in result["reason"] and result["waited_s"] >= 0.5


class BrokenCpuMeter(FailingMeter):
    component = "cpu"

    def _begin(self, name, t):
        raise OSError("counter file vanished")

    def sample(self, t):
        return []


def test_a_failing_meter_loses_its_figure_not_the_run():
    meters = {"cpu": BrokenCpuMeter(), "ram": RamEstimateMeter("no dram domain")}
    monitor = EnergyMonitor(meters, 10.0, time.monotonic(), time.time())
    try:
        monitor.begin_window("w")
        window = monitor.end_window("w")
    finally:
        monitor.close()
    assert window.components["cpu"].joules is None
    assert (
        "could not start the window: OSError: counter file vanished"
        == window.components["cpu"].reason
    )
    assert window.components["ram"].joules is not None


def test_describe_names_what_is_not_measured(monitor):
    described = monitor.describe()
    assert set(described["unreadable"]) == {"gpu", "cpu", "ram"}
    assert "NVML unavailable" in described["unreadable"]["gpu"]
    assert described["meters"]["cpu"]["meter"] == "estimate"
    assert described["clock"]["kind"] == "monotonic"


def test_idle_baseline_says_how_it_was_taken(monitor):
    idle = monitor.measure_idle(0.4, settle_timeout_s=1.0)
    method = idle.to_dict()["method"]
    assert method["requested_s"] == 0.4 and method["sub_windows"] == 4
    assert method["settle"]["settled"] is None  # no GPU to settle
    # The CPU estimate counts 10 ms ticks: two of one busy CPU are 1 % of 2 s.
    assert method["minimum_s"] == pytest.approx(200 / TICKS)
    assert idle.duration_s >= method["minimum_s"]
    assert len(idle.to_dict()["components"]["cpu"]["sub_window_w"]) == 4


def test_every_meter_states_its_resolution_and_shortest_window(monitor):
    meters = monitor.describe()["meters"]
    for component in ("cpu", "ram"):
        assert meters[component]["resolution_rule"]
        assert meters[component]["minimum_window_s"]["2%"] > 0
    monitor.begin_window("w")
    time.sleep(0.2)
    window = monitor.end_window("w")
    cpu, ram = window.components["cpu"], window.components["ram"]
    assert ram.detail["resolution_j"] is not None
    # The CPU estimate's shortest window for 2 % is where its resolution (two ticks at the
    # model's power) is 2 % of one busy CPU's energy over it.
    shortest = monitor.meters["cpu"].minimum_window_s(0.02)
    one_busy_cpu_j = (
        cpu.detail["watts_per_core"] * cpu.detail["physical_cores_per_logical_cpu"] * shortest
    )
    assert cpu.detail["resolution_j"] == pytest.approx(0.02 * one_busy_cpu_j)
    assert window.minimum_s == pytest.approx(shortest)


def test_the_default_idle_window_passes_the_window_check_on_a_host_with_estimates(monitor):
    idle = monitor.measure_idle(2.0, settle_timeout_s=1.0)  # the shipped idle_seconds
    monitor.begin_window("w")
    window = monitor.end_window("w")
    check = check_window_length(idle.duration_s, minimum_s=window.minimum_s)
    assert check.passed, check.detail


def test_the_nvml_counter_needs_twenty_seconds_of_idle_for_one_percent():
    with EnergyMonitor.create(
        nvml=FakeNvml([FakeGpu("GPU-a")]), environ={}, powercap_root="/nonexistent"
    ) as monitor:
        # 0.1 s refresh missed at each edge: 0.2 s of idle power is 1 % of 20 s
        assert monitor.meters["gpu"].minimum_window_s(0.01) == pytest.approx(20.0)


def test_a_gpu_flat_but_hot_has_not_cooled_down():
    hot = [{"t": t / 10, "device": "gpu0", "temperature_c": 75} for t in range(60)]
    assert temperatures_settled(hot, 5.9, 5.0, 1.0) == {"gpu0": True}  # flat: no idle known
    assert temperatures_settled(hot, 5.9, 5.0, 1.0, {"gpu0": 40.0}) == {"gpu0": False}
    back = [{**r, "temperature_c": 42} for r in hot]
    assert temperatures_settled(back, 5.9, 5.0, 1.0, {"gpu0": 40.0}) == {"gpu0": True}


def test_cool_down_waits_for_the_idle_temperature(tmp_path):
    gpu = FakeGpu("GPU-a", temperature_c=40)
    with EnergyMonitor.create(powercap_root=tmp_path, nvml=FakeNvml([gpu]), environ={}) as monitor:
        monitor._idle_temperatures = {"gpu0": 40.0}  # as measure_idle records it
        gpu.temperature_c = 70  # after a trial: hot, and flat
        result = monitor.cool_down(0.6, settle_s=0.3, poll_s=0.05)
    assert result["settled"] is False and "above its idle temperature" in result["reason"]
    assert result["idle_temperatures_c"] == {"gpu0": 40.0}


def test_the_process_tree_is_rescanned_only_now_and_then(tmp_path):
    from energybench.run.meters.estimate import ProcessTree

    proc = fake_proc(tmp_path / "proc", {100: (1, TICKS, 0, 0)})
    slow, eager = ProcessTree(100, proc, rescan_s=3600), ProcessTree(100, proc, rescan_s=0)
    fake_proc(proc, {100: (1, TICKS, 0, 0), 101: (100, 2 * TICKS, 0, 0)})  # a child starts
    assert slow.usage().cpu_seconds == pytest.approx(1.0)  # not yet seen: no /proc scan
    # the scan runs after the reading (so the reading stays close to its timestamp) ...
    assert eager.usage().cpu_seconds == pytest.approx(1.0)
    assert eager.usage().cpu_seconds == pytest.approx(3.0)  # ... its whole CPU time, once seen
    slow.rescan()  # as at a window's edges
    assert slow.usage().cpu_seconds == pytest.approx(3.0)


def test_cpu_estimate_power_and_energy_survive_a_sample_a_millisecond_after_another(tmp_path):
    # /proc counts CPU time in ticks: over the millisecond between a periodic sample and a
    # window edge's the counter does not move, which read as 0 W (and the energy lost from
    # the integral), or moves by one tick, which read as a spike of tens of watts.
    proc = fake_proc(tmp_path / "proc", {100: (1, 0, 0, 0)})
    meter = CpuEstimateMeter(
        "test", watts_per_core=10.0, root_pid=100, proc=proc, topology=tmp_path / "no-topology"
    )
    timeline = Timeline()
    for t, ticks in [
        (0.0, 0),
        (0.1, TICKS // 10),
        (0.1005, TICKS // 10),
        (0.1015, TICKS // 10 + 1),
        (0.2, 2 * TICKS // 10),
    ]:  # one CPU busy throughout
        fake_proc(proc, {100: (1, ticks, 0, 0)})
        timeline.extend(meter.sample(t))
    powers = [r["power_w"] for r in timeline.records()][1:]
    assert powers == pytest.approx([10.0] * 4, rel=0.25)
    after_the_fact = meter.energy_from_timeline(0.1, 0.2, timeline)
    assert after_the_fact.joules == pytest.approx(10.0 * 0.1)  # the CPU-seconds between the edges
    assert after_the_fact.estimated and after_the_fact.source == "estimate"
    assert after_the_fact.detail["run_cpu_seconds"] == pytest.approx(0.1)
    gap = meter.energy_from_timeline(0.1, 5.0, timeline)
    assert gap.joules is None and "gap" in gap.reason


def test_cpu_estimate_window_edges_see_a_child_started_just_before(tmp_path):
    proc = fake_proc(tmp_path / "proc", {100: (1, 0, 0, 0)})
    meter = CpuEstimateMeter(
        "test", watts_per_core=10.0, root_pid=100, proc=proc, topology=tmp_path / "no-topology"
    )
    fake_proc(proc, {100: (1, 0, 0, 0), 101: (100, 5, 0, 0)})  # before the window: 5 ticks
    meter.prepare_begin()  # as the monitor does before the start's timestamp
    meter.begin_window("w", 0.0)
    fake_proc(proc, {100: (1, 0, 0, 0), 101: (100, 8, 0, 0)})
    energy = meter.end_window("w", 0.5, Timeline())
    assert energy.detail["run_cpu_seconds"] == pytest.approx(3 / TICKS)


def test_the_process_scans_at_a_windows_edges_stay_out_of_its_duration(monitor, monkeypatch):
    """Finding the run's processes reads all of /proc (milliseconds on a busy host): done
    after the start's timestamp, it was measured as part of the window (the harness's
    generation throughput, issue 15). Now before the start and after the end."""
    import threading

    from energybench.run.meters.estimate import ProcessTree

    scanned_at = []
    rescan = ProcessTree.rescan

    def timed_rescan(tree):
        if threading.current_thread() is threading.main_thread():  # not the sampler's own scans
            scanned_at.append(monitor.now())
        rescan(tree)

    monkeypatch.setattr(ProcessTree, "rescan", timed_rescan)
    monitor.begin_window("w")
    at_start = list(scanned_at)
    window = monitor.end_window("w")
    at_end = scanned_at[len(at_start) :]
    assert at_start and max(at_start) <= window.start_s
    assert at_end and window.end_s <= min(at_end)
    assert window.components["cpu"].joules is not None


def test_a_meter_that_cannot_prepare_a_start_loses_its_figure_not_the_run(monitor, monkeypatch):
    def unreadable():
        raise OSError("no /proc")

    monkeypatch.setattr(monitor.meters["cpu"], "prepare_begin", unreadable)
    monitor.begin_window("w")
    window = monitor.end_window("w")
    assert window.components["cpu"].joules is None
    assert "could not start the window: OSError: no /proc" in window.components["cpu"].reason
    assert window.components["ram"].joules is not None
