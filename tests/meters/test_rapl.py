"""The RAPL reader against powercap trees laid out as the kernel lays them out.

/sys/class/powercap holds symlinks (intel-rapl, intel-rapl:0, intel-rapl:0:0, ...) into
/sys/devices/virtual/powercap/intel-rapl/, where each package zone directory holds its
sub-zone directories.
"""

import errno
import os
from pathlib import Path

import pytest
from fake_nvml import no_gpu

from energybench.run.meters import EnergyMonitor
from energybench.run.meters import rapl as rapl_module
from energybench.run.meters.rapl import RaplMeter, discover_rapl
from energybench.run.meters.timeline import Timeline

MAX_RANGE = 262143328850  # a real package's max_energy_range_uj


def write_zone(directory: Path, name: str, energy_uj: int, max_range: int = MAX_RANGE) -> None:
    directory.mkdir(parents=True)
    (directory / "name").write_text(name + "\n")
    (directory / "energy_uj").write_text(f"{energy_uj}\n")
    (directory / "max_energy_range_uj").write_text(f"{max_range}\n")
    (directory / "enabled").write_text("1\n")
    (directory / "constraint_0_name").write_text("long_term\n")
    (directory / "constraint_0_power_limit_uw").write_text("150000000\n")


def powercap_tree(tmp_path: Path, packages: dict, control_type: str = "intel-rapl") -> Path:
    """packages: {zone number: (name, energy, {sub number: (name, energy)})} -> class root."""
    devices = tmp_path / "sys/devices/virtual/powercap" / control_type
    devices.mkdir(parents=True, exist_ok=True)
    (devices / "enabled").write_text("1\n")
    root = tmp_path / "sys/class/powercap"
    root.mkdir(parents=True, exist_ok=True)
    if not (root / control_type).exists():
        (root / control_type).symlink_to(os.path.relpath(devices, root))
    for number, (name, energy, subzones) in packages.items():
        zone = devices / f"{control_type}:{number}"
        write_zone(zone, name, energy)
        (root / zone.name).symlink_to(os.path.relpath(zone, root))
        for sub, (sub_name, sub_energy) in subzones.items():
            subzone = zone / f"{control_type}:{number}:{sub}"
            write_zone(subzone, sub_name, sub_energy)
            (root / subzone.name).symlink_to(os.path.relpath(subzone, root))
    return root


def server(tmp_path):
    return powercap_tree(
        tmp_path,
        {
            0: (
                "package-0",
                1_000_000,
                {0: ("core", 500_000), 1: ("uncore", 10_000), 2: ("dram", 300_000)},
            ),
            1: ("package-1", 2_000_000, {0: ("core", 700_000), 2: ("dram", 400_000)}),
        },
    )


def set_energy(root: Path, zone: str, energy_uj: int) -> None:
    (root / zone / "energy_uj").write_text(f"{energy_uj}\n")


def test_server_sums_packages_and_dram_without_subzones(tmp_path):
    root = server(tmp_path)
    found = discover_rapl(root)
    assert [d.device for d in found.domains["cpu"]] == [
        "intel-rapl:0/package-0",
        "intel-rapl:1/package-1",
    ]
    assert [d.device for d in found.domains["ram"]] == [
        "intel-rapl:0:2/dram",
        "intel-rapl:1:2/dram",
    ]
    assert {s["name"] for s in found.skipped} == {"core", "uncore"}
    assert found.problems == {}

    cpu = RaplMeter("cpu", found.domains["cpu"], 0.0)
    ram = RaplMeter("ram", found.domains["ram"], 0.0)
    cpu.begin_window("w", 0.0)
    ram.begin_window("w", 0.0)
    set_energy(root, "intel-rapl:0", 1_000_000 + 30_000_000)  # 30 J
    set_energy(root, "intel-rapl:1", 2_000_000 + 20_000_000)  # 20 J
    set_energy(root, "intel-rapl:0:0", 500_000 + 25_000_000)  # core: inside package-0, not added
    set_energy(root, "intel-rapl:0:2", 300_000 + 4_000_000)
    set_energy(root, "intel-rapl:1:2", 400_000 + 1_000_000)
    cpu_energy = cpu.end_window("w", 1.0, Timeline())
    ram_energy = ram.end_window("w", 1.0, Timeline())
    assert cpu_energy.joules == pytest.approx(50.0)
    assert cpu_energy.source == "rapl" and not cpu_energy.estimated and cpu_energy.reason is None
    assert cpu_energy.detail["per_device_j"] == {
        "intel-rapl:0/package-0": 30.0,
        "intel-rapl:1/package-1": 20.0,
    }
    assert ram_energy.joules == pytest.approx(5.0)


def test_laptop_psys_is_not_added_and_missing_dram_is_said(tmp_path):
    root = powercap_tree(
        tmp_path,
        {0: ("package-0", 0, {0: ("core", 0), 1: ("uncore", 0)}), 1: ("psys", 0, {})},
    )
    found = discover_rapl(root)
    assert [d.device for d in found.domains["cpu"]] == ["intel-rapl:0/package-0"]
    assert any(s["name"] == "psys" and "double count" in s["reason"] for s in found.skipped)
    assert found.domains["ram"] == [] and "no RAPL dram domain" in found.problems["ram"]


def test_mmio_copy_is_not_counted_twice(tmp_path):
    root = server(tmp_path)
    powercap_tree(tmp_path, {0: ("package-0", 5, {})}, control_type="intel-rapl-mmio")
    found = discover_rapl(root)
    assert len(found.domains["cpu"]) == 2
    assert any(s["zone"] == "intel-rapl-mmio:0" for s in found.skipped)


def test_wrap_around_across_samples(tmp_path):
    # 200 J, so a 1 s window at 600 W wraps several times; still above what 1 kW (the most a
    # domain can plausibly draw) adds in one 0.1 s sample interval, so each wrap is told apart
    small_range = 200_000_000
    root = powercap_tree(tmp_path, {0: ("package-0", 0, {})})
    (root / "intel-rapl:0" / "max_energy_range_uj").write_text(f"{small_range}\n")
    set_energy(root, "intel-rapl:0", small_range - 1_000_000)
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    timeline = Timeline()
    meter.begin_window("w", 0.0)
    counter = small_range - 1_000_000
    for i in range(1, 11):  # 60 J per 0.1 s
        counter = (counter + 60_000_000) % small_range
        set_energy(root, "intel-rapl:0", counter)
        timeline.extend(meter.sample(i / 10))
    energy = meter.end_window("w", 1.0, timeline)
    assert energy.joules == pytest.approx(600.0)
    assert energy.detail["wraps"] == {
        "intel-rapl:0/package-0": 3
    }  # 199 J + 600 J passes 200, 400, 600 J
    assert [r["power_w"] for r in timeline.records()] == pytest.approx([600.0] * 10)


def test_single_wrap_between_window_edges(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", MAX_RANGE - 1_000, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("w", 0.0)
    set_energy(root, "intel-rapl:0", 2_500)
    energy = meter.end_window("w", 0.2, Timeline())
    assert energy.joules == pytest.approx(3_500 / 1e6)


def test_counter_reset_invalidates_the_window(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 100_000_000, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("before", 0.0)
    set_energy(root, "intel-rapl:0", 100_500_000)
    assert meter.end_window("before", 0.1, Timeline()).joules == pytest.approx(0.5)
    meter.begin_window("w", 0.1)
    set_energy(root, "intel-rapl:0", 5_000)  # backwards by 100 J in 0.1 s: not a wrap
    energy = meter.end_window("w", 0.2, Timeline())
    assert energy.joules is None and "reset" in energy.reason
    meter.begin_window("after", 0.2)
    set_energy(root, "intel-rapl:0", 1_005_000)
    assert meter.end_window("after", 0.3, Timeline()).joules == pytest.approx(1.0)


def test_counter_that_disappears_invalidates_the_window(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 0, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("w", 0.0)
    (root / "intel-rapl:0" / "energy_uj").unlink()
    energy = meter.end_window("w", 1.0, Timeline())
    assert energy.joules is None and "energy_uj" in energy.reason


def deny(monkeypatch, *names):
    """Reading these energy files fails as it does for a non-root user since Linux 5.10."""
    real = rapl_module._read_number

    def read(path):
        if path.name == "energy_uj" and any(n in str(path) for n in names):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(rapl_module, "_read_number", read)


def test_permission_denied_is_reported_per_component(tmp_path, monkeypatch):
    root = server(tmp_path)
    deny(monkeypatch, "intel-rapl:1:2")
    found = discover_rapl(root)
    assert len(found.domains["cpu"]) == 2
    assert found.domains["ram"] == []  # one dram unreadable: no partial sum
    assert "permission denied" in found.problems["ram"] and "root" in found.problems["ram"]
    assert "intel-rapl:1:2/energy_uj" in found.problems["ram"]


def test_missing_powercap(tmp_path):
    found = discover_rapl(tmp_path / "nowhere")
    assert found.domains == {"cpu": [], "ram": []}
    assert "does not exist" in found.problems["cpu"] and "does not exist" in found.problems["ram"]


def test_monitor_uses_rapl_when_readable(tmp_path):
    root = server(tmp_path)
    with EnergyMonitor.create(powercap_root=root, nvml=no_gpu(), environ={}) as monitor:
        monitor.begin_window("w")
        set_energy(root, "intel-rapl:0", 1_000_000 + 5_000_000)
        window = monitor.end_window("w")
        described = monitor.describe()
    assert window.components["cpu"].source == "rapl"
    assert window.components["cpu"].joules == pytest.approx(5.0)
    assert window.components["ram"].source == "rapl" and window.components["ram"].joules == 0.0
    assert {s["name"] for s in described["rapl_domains_not_summed"]} == {"core", "uncore"}


def test_monitor_estimates_only_what_rapl_cannot_read(tmp_path, monkeypatch):
    root = server(tmp_path)
    deny(monkeypatch, "intel-rapl:0/", "intel-rapl:1/")  # every package and dram counter
    with EnergyMonitor.create(powercap_root=root, nvml=no_gpu(), environ={}) as monitor:
        monitor.begin_window("w")
        window = monitor.end_window("w")
    cpu = window.components["cpu"]
    assert cpu.source == "estimate" and cpu.estimated and "permission denied" in cpu.reason
    with EnergyMonitor.create(
        powercap_root=root, nvml=no_gpu(), environ={}, estimate=False
    ) as monitor:
        monitor.begin_window("w")
        window = monitor.end_window("w")
    assert (
        window.components["cpu"].joules is None
        and "permission denied" in window.components["cpu"].reason
    )


def test_sub_window_from_sampled_counters(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 0, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    timeline = Timeline()
    for i in range(1, 11):  # 2.5 J every 0.1 s: 25 W
        set_energy(root, "intel-rapl:0", i * 2_500_000)
        timeline.extend(meter.sample(i / 10))
    energy = meter.energy_from_timeline(0.25, 0.75, timeline)
    assert energy.source == "rapl" and energy.joules == pytest.approx(12.5)
    lost = meter.energy_from_timeline(0.5, 3.0, timeline)
    assert lost.joules is None and "gap" in lost.reason


def test_a_reset_after_a_long_polling_gap_is_not_taken_for_a_wrap(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 170_000_000_000, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("w", 0.0)
    set_energy(root, "intel-rapl:0", 70_000_000_000)  # 60 s later, lower: a wrap would be 162 kJ
    energy = meter.end_window("w", 60.0, Timeline())
    assert energy.joules is None and "reset" in energy.reason


def rapl_trace(tmp_path, watts_per_interval):
    """A RAPL package sampled every 0.1 s; ``watts_per_interval[i]`` is the power over
    [0.1 i, 0.1 (i + 1)]."""
    root = powercap_tree(tmp_path, {0: ("package-0", 0, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    timeline = Timeline()
    counter = 0
    for i, watts in enumerate(watts_per_interval, start=1):
        counter += int(watts * 0.1 * 1e6)
        set_energy(root, "intel-rapl:0", counter)
        timeline.extend(meter.sample(i / 10))
    return meter, timeline


def test_a_sub_window_is_measured_from_running_totals_not_interval_averages(tmp_path):
    meter, timeline = rapl_trace(tmp_path, [100, 100, 400, 100, 100, 100, 100])
    # [0.25, 0.55]: half the 400 W interval (20 J) + 100 W for 0.25 s (25 J) = 45 J;
    # integrating interval averages as point samples gives 56.25 J (+25 %).
    energy = meter.energy_from_timeline(0.25, 0.55, timeline)
    assert energy.joules == pytest.approx(45.0)
    assert energy.detail["integrated_from"] == "running counter totals"


def test_rapl_resolution_includes_the_millisecond_update_period(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 0, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("w", 0.0)
    set_energy(root, "intel-rapl:0", 2_000_000_000)  # 2 kJ over 10 s: 200 W
    energy = meter.end_window("w", 10.0, Timeline())
    assert energy.detail["resolution_j"] == pytest.approx(1e-6 + 2 * 0.001 * 200.0)
    assert meter.minimum_window_s(0.01) == pytest.approx(0.2)


def test_a_reset_after_a_gap_a_wrap_would_fit_is_not_taken_for_a_wrap(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 100_000_000_000, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    meter.begin_window("w", 0.0)
    set_energy(root, "intel-rapl:0", 1_000_000)  # 200 s later: a wrap would be 162 kJ, 810 W
    energy = meter.end_window("w", 200.0, Timeline())
    assert energy.joules is None and "reset cannot be told from a wrap" in energy.reason


def test_a_sub_window_just_after_a_reset_is_void_not_half(tmp_path):
    root = powercap_tree(tmp_path, {0: ("package-0", 100_000_000, {})})
    meter = RaplMeter("cpu", discover_rapl(root).domains["cpu"], 0.0)
    timeline, counter = Timeline(), 100_000_000
    for i in range(1, 11):  # 10 J every 0.1 s; the counter resets before the reading at 0.5 s
        counter = 10_000_000 if i == 5 else counter + 10_000_000
        set_energy(root, "intel-rapl:0", counter)
        timeline.extend(meter.sample(i / 10))
    assert meter.energy_from_timeline(0.6, 1.0, timeline).joules == pytest.approx(40.0)
    energy = meter.energy_from_timeline(0.52, 0.58, timeline)
    assert energy.joules is None and "reset" in energy.reason
