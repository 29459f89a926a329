"""The NVML meter: against the real library where a GPU is present, and against a stand-in
pynvml for device mapping (CUDA_VISIBLE_DEVICES) and the counter fallbacks."""

import json
import time
from pathlib import Path

import pynvml
import pytest
from fake_nvml import FakeGpu, FakeNvml, no_gpu

from energybench.run.meters import EnergyMonitor
from energybench.run.meters.base import UnavailableMeter
from energybench.run.meters.gpu_devices import resolve_gpu_devices
from energybench.run.meters.nvml import AVERAGED, INSTANT, NvmlMeter, open_gpu_meter
from energybench.run.meters.timeline import Timeline

DATA = Path(__file__).parents[1] / "data"

UUID_A = "GPU-aaaaaaaa-1111-2222-3333-444444444444"
UUID_B = "GPU-bbbbbbbb-1111-2222-3333-444444444444"
UUID_C = "GPU-cccccccc-1111-2222-3333-444444444444"
UUID_D = "GPU-dddddddd-1111-2222-3333-444444444444"
MIG_1 = "MIG-11111111-aaaa-bbbb-cccc-dddddddddddd"
MIG_2 = "MIG-22222222-aaaa-bbbb-cccc-dddddddddddd"


def four_gpus(**kwargs):
    return FakeNvml([FakeGpu(u, **kwargs) for u in (UUID_A, UUID_B, UUID_C, UUID_D)])


def mapped(nvml, visible, gpu_devices=None, order=None):
    selection = resolve_gpu_devices(nvml, visible, gpu_devices, cuda_device_order=order)
    return [(d.device, d.uuid, d.mig_instance) for d in selection.devices], selection


# --- the real library --------------------------------------------------------------------


def test_real_nvml_measures_the_gpus():
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        pytest.skip(f"no NVIDIA GPU or driver on this machine: {error}")
    pynvml.nvmlShutdown()
    with EnergyMonitor.create() as monitor:
        monitor.begin_window("idle")
        time.sleep(2.0)
        gpu = monitor.end_window("idle").components["gpu"]
        described = monitor.describe()["meters"]["gpu"]
        samples = [r for r in monitor.timeline() if r["component"] == "gpu"]
    assert gpu.joules is not None and gpu.joules > 0, gpu.reason
    assert gpu.source in ("nvml", "nvml_power_integral")
    assert described["devices"] and all(d["uuid"].startswith("GPU-") for d in described["devices"])
    per_device = len(samples) / len(gpu.devices)
    assert per_device >= 15, "the sampler should reach about 10 Hz over 2 s"
    assert all(r["power_w"] is None or r["power_w"] > 0 for r in samples)


# --- device mapping ----------------------------------------------------------------------


def test_all_gpus_when_cuda_visible_devices_is_unset():
    devices, selection = mapped(four_gpus(), None)
    assert [d[1] for d in devices] == [UUID_A, UUID_B, UUID_C, UUID_D]
    assert [d[0] for d in devices] == ["gpu0", "gpu1", "gpu2", "gpu3"]
    assert selection.notes == []


def test_indices_are_renumbered_as_the_run_sees_them():
    devices, _ = mapped(four_gpus(), "2,0")
    assert devices == [("gpu0", UUID_C, None), ("gpu1", UUID_A, None)]


def test_run_device_ids_index_the_visible_list():
    devices, _ = mapped(four_gpus(), "2,3", gpu_devices=[1])
    assert devices == [("gpu1", UUID_D, None)]
    devices, _ = mapped(four_gpus(), "2,3", gpu_devices=["cuda:0"])
    assert devices == [("gpu0", UUID_C, None)]


def test_uuids_full_and_unique_prefix():
    devices, _ = mapped(four_gpus(), f"{UUID_D},GPU-bbbb")
    assert devices == [("gpu0", UUID_D, None), ("gpu1", UUID_B, None)]


def test_invalid_entry_hides_the_rest_like_cuda():
    devices, selection = mapped(four_gpus(), "1,7,2")
    assert devices == [("gpu0", UUID_B, None)]
    assert "'7' names no GPU" in selection.notes[0]
    devices, selection = mapped(four_gpus(), "GPU-,0")  # a prefix matching every GPU is ambiguous
    assert devices == []


@pytest.mark.parametrize("visible", ["", "-1"])
def test_no_visible_gpu(visible):
    devices, selection = mapped(four_gpus(), visible)
    assert devices == []
    assert "no GPU visible" in selection.reason


def test_mig_instances_map_to_their_physical_gpu_once():
    nvml = FakeNvml([FakeGpu(UUID_A), FakeGpu(UUID_B, mig=True, mig_instances=(MIG_1, MIG_2))])
    devices, selection = mapped(nvml, f"{MIG_1},{MIG_2}")
    assert devices == [("gpu0", UUID_B, MIG_1)]
    assert "counted once" in selection.notes[0]
    devices, _ = mapped(nvml, f"MIG-{UUID_B}/1/0")  # the pre-R470 MIG naming
    assert devices == [("gpu0", UUID_B, f"MIG-{UUID_B}/1/0")]


def test_run_device_by_uuid_and_unknown_device():
    devices, _ = mapped(four_gpus(), "3,1", gpu_devices=[UUID_B])
    assert devices == [("gpu1", UUID_B, None)]
    with pytest.raises(ValueError, match="not among the GPUs visible"):
        mapped(four_gpus(), "3,1", gpu_devices=[2])


def test_index_ambiguity_with_mixed_models_is_reported():
    nvml = FakeNvml(
        [FakeGpu(UUID_A, "NVIDIA A100-SXM4-80GB"), FakeGpu(UUID_B, "NVIDIA H100 80GB HBM3")]
    )
    _, selection = mapped(nvml, "1")
    assert "CUDA_DEVICE_ORDER" in selection.notes[0]
    assert mapped(nvml, "1", order="PCI_BUS_ID")[1].notes == []
    assert mapped(nvml, UUID_B)[1].notes == []


def test_no_driver_gives_a_reason_not_a_zero():
    meter = open_gpu_meter(nvml=no_gpu(), environ={})
    assert isinstance(meter, UnavailableMeter)
    meter.begin_window("w", 0.0)
    energy = meter.end_window("w", 1.0, Timeline())
    assert energy.joules is None and "NVML unavailable" in energy.reason


def test_hidden_gpus_release_nvml():
    nvml = four_gpus()
    meter = open_gpu_meter(nvml=nvml, environ={"CUDA_VISIBLE_DEVICES": ""})
    assert isinstance(meter, UnavailableMeter) and "no GPU visible" in meter.why
    assert nvml.initialized == 0


# --- windows -----------------------------------------------------------------------------


def run_window(meter, gpus, *, start_mj, end_mj, until=10.0, hz=10, before_end=None):
    """Sample at ``hz`` from 0 to ``until`` with the counters moving from start to end."""
    timeline = Timeline()
    for gpu, mj in zip(gpus, start_mj):
        gpu.counter_mj = mj
    meter.begin_window("w", 0.0)
    for i in range(int(until * hz) + 1):
        timeline.extend(meter.sample(i / hz))
    if before_end:
        before_end()
    for gpu, mj in zip(gpus, end_mj):
        gpu.counter_mj = mj
    return meter.end_window("w", until, timeline)


def test_two_devices_summed_with_zero_delta_fallback():
    trace = json.loads((DATA / "nvml_two_devices.json").read_text())
    specs = trace["devices"]
    gpus = [
        FakeGpu(UUID_A, power_w=specs["gpu0"]["power_w"]),
        FakeGpu(UUID_B, power_w=specs["gpu1"]["power_w"]),
    ]
    meter = open_gpu_meter(nvml=FakeNvml(gpus), environ={})
    energy = run_window(
        meter,
        gpus,
        start_mj=[specs[d]["counter_mj"][0] for d in ("gpu0", "gpu1")],
        end_mj=[specs[d]["counter_mj"][1] for d in ("gpu0", "gpu1")],
        until=trace["window"]["t1"],
    )
    expected = trace["expected"]
    assert energy.joules == pytest.approx(expected["joules"])
    assert energy.source == expected["source"]
    assert energy.detail["per_device_j"] == pytest.approx(expected["per_device_j"])
    assert {d: r["source"] for d, r in energy.detail["per_device"].items()} == expected[
        "per_device_source"
    ]
    assert "did not move" in energy.reason and "gpu1" in energy.reason
    assert any("mixed sources" in note for note in energy.notes)
    assert energy.detail["counter_j"] == pytest.approx(2400.0)  # gpu1's counter read 0 J
    assert energy.detail["integral_j"] == pytest.approx(240.0 * 10 + 100.0 * 10)
    assert energy.detail["power_limit_w"] == 1400.0


def test_counter_agrees_with_integral_when_both_move():
    gpu = FakeGpu(UUID_A, power_w=300.0)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[5_000_000], end_mj=[8_000_000])
    assert energy.source == "nvml" and energy.reason is None
    assert energy.joules == pytest.approx(3000.0)
    assert energy.detail["integral_j"] == pytest.approx(3000.0)
    # 300 W over 10 s: one counter refresh (0.1 s) missed at each end = 2 x 300 W x 0.1 s
    assert energy.detail["resolution_j"] == pytest.approx(60.0)


def test_gpu_without_counter_uses_power_integral():
    gpu = FakeGpu(UUID_A, power_w=50.0, has_counter=False, instant_power=False)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[0], end_mj=[0])
    assert energy.source == "nvml_power_integral"
    assert energy.joules == pytest.approx(500.0)
    assert "no total-energy counter" in energy.reason
    assert meter.describe()["devices"][0]["power_reading"] == AVERAGED


def test_counter_going_backwards_falls_back_with_the_reason():
    gpu = FakeGpu(UUID_A, power_w=200.0)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[9_000_000], end_mj=[10])
    assert energy.source == "nvml_power_integral"
    assert energy.joules == pytest.approx(2000.0)
    assert "went backwards" in energy.reason


def test_device_lost_mid_window_gives_none_with_reason():
    gpus = [FakeGpu(UUID_A), FakeGpu(UUID_B)]
    meter = open_gpu_meter(nvml=FakeNvml(gpus), environ={})
    timeline = Timeline()
    meter.begin_window("w", 0.0)
    for i in range(51):
        timeline.extend(meter.sample(i / 10))
    gpus[1].lost = True
    for i in range(51, 101):
        timeline.extend(meter.sample(i / 10))
    energy = meter.end_window("w", 10.0, timeline)
    assert energy.joules is None
    assert "gpu1" in energy.reason and "GPU is lost" in energy.reason
    assert energy.detail["per_device_j"]["gpu0"] is not None
    assert "gpu1.power_w" in meter.describe()["sampling_errors"]


def test_mig_and_module_power_are_reported():
    gpu = FakeGpu(
        UUID_B,
        "NVIDIA GH200 480GB",
        power_w=400.0,
        mig=True,
        module_power_w=650.0,
        mig_instances=(MIG_1,),
    )
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={"CUDA_VISIBLE_DEVICES": MIG_1})
    energy = run_window(meter, [gpu], start_mj=[0], end_mj=[4_000_000])
    assert any("MIG is enabled" in note for note in energy.notes)
    assert energy.detail["mig_enabled"] == {"gpu0": True}
    assert energy.detail["per_device"]["gpu0"]["module_integral_j"] == pytest.approx(6500.0)
    device = meter.describe()["devices"][0]
    assert (
        device["module_power"]
        and device["mig_instance"] == MIG_1
        and device["power_reading"] == INSTANT
    )
    sample = meter.sample(11.0)[0]
    assert sample["module_power_w"] == 650.0 and sample["utilization_pct"] is None


def test_meter_rejects_unknown_window():
    nvml = FakeNvml([FakeGpu(UUID_A)])
    meter = NvmlMeter(nvml, resolve_gpu_devices(nvml, None).devices)
    with pytest.raises(KeyError, match="never begun"):
        meter.end_window("nope", 1.0, Timeline())


def test_driver_without_gpus():
    meter = open_gpu_meter(nvml=FakeNvml([]), environ={})
    assert isinstance(meter, UnavailableMeter) and "NVML lists no GPU" in meter.why


def test_grace_hopper_module_power_fallback_is_not_silent():
    gpu = FakeGpu(
        UUID_A, "NVIDIA GH200 480GB", power_w=400.0, instant_power=False, module_power_w=650.0
    )
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[0], end_mj=[4_000_000])
    assert any("may cover the whole module" in note for note in energy.notes)
    assert any("gpu0" in note and "Grace Hopper" in note for note in meter.describe()["notes"])
    assert energy.detail["power_averaging_s"] == {"gpu0": 1.0}


def test_nan_or_negative_power_samples_void_the_integral_with_the_cause():
    gpu = FakeGpu(UUID_A, power_w=300.0, has_counter=False)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    timeline = Timeline()
    meter.begin_window("w", 0.0)
    for i in range(101):  # a driver answering NaN, then a negative reading
        watts = float("nan") if i == 40 else -5.0 if i == 41 else 300.0
        timeline.extend([{"t": i / 10, "device": "gpu0", "component": "gpu", "power_w": watts}])
    energy = meter.end_window("w", 10.0, timeline)
    assert energy.joules is None
    assert "not a non-negative number" in energy.reason and "nan W at 4.000 s" in energy.reason


def test_counter_check_tolerance_comes_from_both_meters_resolution():
    gpu = FakeGpu(UUID_A, power_w=300.0)  # instant power sampled at 10 Hz
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[5_000_000], end_mj=[8_000_000])
    # counter: 2 x 300 W x 0.1 s; integral: 300 W x one 0.1 s sample gap
    assert energy.detail["counter_resolution_j"] == pytest.approx(60.0)
    assert energy.detail["integral_resolution_j"] == pytest.approx(30.0)
    from energybench.run.meters import WindowMeasurement

    check = next(
        c
        for c in WindowMeasurement("w", 0.0, 10.0, {"gpu": energy}).checks(None)
        if c.name == "gpu_counter_matches_power_integral"
    )
    assert check.passed and check.limit == pytest.approx(90.0 / 3000.0)


def test_a_window_chosen_after_the_fact_uses_the_counter_where_there_is_one():
    gpu = FakeGpu(UUID_A, power_w=300.0)  # the power reading says 300 W ...
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    timeline = Timeline()
    for i in range(101):
        gpu.counter_mj = 1_000_000 + i * 25_000  # ... the counter 250 W: it wins
        timeline.extend(meter.sample(i / 10))
    energy = meter.energy_from_timeline(2.55, 7.55, timeline)
    assert energy.source == "nvml" and energy.joules == pytest.approx(1250.0)
    assert energy.detail["integral_j"] == pytest.approx(1500.0)  # kept for the check
    gpu.counter_mj = 0  # a reset between two samples: back to the power integral, saying why
    timeline.extend(meter.sample(10.1))
    fallback = meter.energy_from_timeline(9.0, 10.05, timeline)
    assert fallback.source == "nvml_power_integral" and "went backwards" in fallback.reason


def test_a_counter_that_did_not_move_does_not_claim_a_fine_resolution():
    gpu = FakeGpu(UUID_A, power_w=400.0)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    energy = run_window(meter, [gpu], start_mj=[5_000_000], end_mj=[5_000_000], until=0.5)
    # the window drew about 200 J (400 W x 0.5 s): a refresh missed at each end is 80 J, not 1 mJ
    assert energy.detail["counter_resolution_j"] == pytest.approx(2 * 400.0 * 0.1)


def test_a_gpu_lost_in_the_last_second_gives_no_figure_not_a_full_window():
    """10 s at 300 W, the device lost at 9.5 s: its last reading must not be carried to the
    window's end as if it had answered (3,000 J)."""
    gpu = FakeGpu(UUID_A, power_w=300.0)
    meter = open_gpu_meter(nvml=FakeNvml([gpu]), environ={})
    timeline = Timeline()
    meter.begin_window("lost", 0.0)
    for i in range(96):
        gpu.lost = i >= 95
        timeline.extend(meter.sample(i / 10))
    timeline.extend(meter.sample(10.0))
    energy = meter.end_window("lost", 10.0, timeline)
    assert energy.joules is None
    assert "GPU is lost" in energy.reason and "no power reading" in energy.reason
