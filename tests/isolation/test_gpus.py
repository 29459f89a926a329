"""GPU pinning on one node, with fake device lists: the allocation is under test, not GPUs.

Holders run in separate processes (spawned, like Snakemake's jobs), because the locks
belong to processes and the kernel must release them when a process dies.
"""

import multiprocessing
import os
import signal
import sys
import time
import types

import pytest

from energybench.job import gpus
from energybench.job.gpus import GpuAllocationError, allocate_gpus
from energybench.run import gpu_pool
from energybench.run.gpu_pool import discover_devices

SPAWN = multiprocessing.get_context("spawn")


def hold_gpus(count, lock_dir, held_queue, release_event, timeout_s=10.0):
    """Child process: take `count` GPUs, report them, keep them until told to let go."""
    with allocate_gpus(count, lock_dir, timeout_s=timeout_s, poll_interval_s=0.02) as devices:
        held_queue.put((os.getpid(), devices))
        release_event.wait(30)


@pytest.fixture
def fake_gpus(monkeypatch, tmp_path):
    """Four fake GPUs outside SLURM; returns the lock directory."""
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0,1,2,3")
    return tmp_path / "locks"


def start_holders(counts, lock_dir):
    """Start one holder per entry of `counts`; return (processes, their devices, release)."""
    held_queue, release = SPAWN.Queue(), SPAWN.Event()
    processes = [
        SPAWN.Process(target=hold_gpus, args=(count, lock_dir, held_queue, release))
        for count in counts
    ]
    for process in processes:
        process.start()
    held = [held_queue.get(timeout=30) for _ in processes]
    return processes, dict(held), release


def stop(processes, release):
    release.set()
    for process in processes:
        process.join(timeout=30)
    assert all(process.exitcode == 0 for process in processes)


def test_concurrent_jobs_hold_distinct_devices(fake_gpus):
    processes, held, release = start_holders([1, 1, 1, 1], fake_gpus)
    try:
        devices = [device for job_devices in held.values() for device in job_devices]
        assert sorted(devices) == ["0", "1", "2", "3"]  # all four at once, none shared
    finally:
        stop(processes, release)


def test_multi_gpu_jobs_take_disjoint_sets(fake_gpus):
    processes, held, release = start_holders([2, 1, 1], fake_gpus)
    try:
        sizes = sorted(len(job_devices) for job_devices in held.values())
        devices = [device for job_devices in held.values() for device in job_devices]
        assert sizes == [1, 1, 2]
        assert sorted(devices) == ["0", "1", "2", "3"]
    finally:
        stop(processes, release)


def test_waits_for_a_device_then_times_out_naming_the_holder(fake_gpus, monkeypatch):
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0")
    processes, held, release = start_holders([1], fake_gpus)
    try:
        started = time.monotonic()
        with pytest.raises(GpuAllocationError) as failure:
            with allocate_gpus(1, fake_gpus, timeout_s=0.5, poll_interval_s=0.05):
                pass
        assert 0.5 <= time.monotonic() - started < 5
        holder_pid = next(iter(held))
        assert f"pid {holder_pid}" in str(failure.value)
        assert "waited 0.5 s" in str(failure.value)
    finally:
        stop(processes, release)


def test_a_waiting_job_gets_the_device_once_it_is_released(fake_gpus, monkeypatch):
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0,1")
    processes, held, release = start_holders([2], fake_gpus)
    started = time.monotonic()
    waiter_queue = SPAWN.Queue()
    waiter = SPAWN.Process(target=hold_gpus, args=(1, fake_gpus, waiter_queue, release, 30.0))
    waiter.start()
    time.sleep(1.0)
    assert waiter_queue.empty()  # both devices are held: the waiter must still wait
    release.set()  # lets the first holder go (and the waiter, once it has its device)
    _, devices = waiter_queue.get(timeout=30)
    assert devices == ["0"]
    assert time.monotonic() - started >= 1.0
    stop([*processes, waiter], release)


def test_a_killed_holder_releases_its_devices(fake_gpus, monkeypatch):
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "7")
    processes, held, release = start_holders([1], fake_gpus)
    os.kill(processes[0].pid, signal.SIGKILL)
    processes[0].join(timeout=30)
    assert processes[0].exitcode == -signal.SIGKILL
    with allocate_gpus(1, fake_gpus, timeout_s=5) as devices:
        assert devices == ["7"]


def test_devices_are_released_when_the_job_fails(fake_gpus, monkeypatch):
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0")
    with pytest.raises(RuntimeError, match="engine crashed"):
        with allocate_gpus(1, fake_gpus):
            raise RuntimeError("engine crashed")
    with allocate_gpus(1, fake_gpus, timeout_s=0) as devices:
        assert devices == ["0"]


def test_zero_gpus_is_an_empty_list_without_locks(fake_gpus):
    with allocate_gpus(0, fake_gpus) as devices:
        assert devices == []
    assert not fake_gpus.exists()


def test_asking_more_gpus_than_exist_fails_at_once(fake_gpus):
    started = time.monotonic()
    with pytest.raises(GpuAllocationError, match=r"needs 5 GPU\(s\) but only 4"):
        with allocate_gpus(5, fake_gpus, timeout_s=60):
            pass
    assert time.monotonic() - started < 1


def test_negative_count_is_rejected(fake_gpus):
    with pytest.raises(ValueError, match="negative"):
        with allocate_gpus(-1, fake_gpus):
            pass


def test_slurm_assignment_is_used_as_is_without_locks(monkeypatch, tmp_path):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0,1,2,3")  # SLURM's choice wins
    lock_dir = tmp_path / "locks"
    with allocate_gpus(2, lock_dir) as first, allocate_gpus(2, lock_dir) as second:
        assert first == second == ["2", "3"]
    assert not lock_dir.exists()


def test_slurm_assigning_fewer_gpus_than_needed_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(GpuAllocationError, match=r"SLURM \(CUDA_VISIBLE_DEVICES\): 0"):
        with allocate_gpus(2, tmp_path):
            pass


def test_user_visible_devices_are_the_shared_pool(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv(gpu_pool.DEVICES_ENV, raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaa, GPU-bbb")
    assert discover_devices() == gpu_pool.DevicePool(
        ("GPU-aaa", "GPU-bbb"), "CUDA_VISIBLE_DEVICES", False
    )


def fake_pynvml(device_count):
    module = types.ModuleType("pynvml")
    module.nvmlInit = lambda: None
    module.nvmlShutdown = lambda: None
    module.nvmlDeviceGetCount = lambda: device_count
    return module


def test_without_any_setting_nvml_lists_the_node_gpus(monkeypatch):
    for name in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", gpu_pool.DEVICES_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(3))
    assert discover_devices() == gpu_pool.DevicePool(("0", "1", "2"), "NVML", False)


def test_no_nvidia_driver_means_no_gpus(monkeypatch, tmp_path):
    for name in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", gpu_pool.DEVICES_ENV):
        monkeypatch.delenv(name, raising=False)
    broken = fake_pynvml(0)

    def no_driver():
        raise OSError("NVML Shared Library Not Found")

    broken.nvmlInit = no_driver
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    assert discover_devices().devices == ()
    with pytest.raises(GpuAllocationError, match=r"only 0 are available \(NVML: none\)"):
        with allocate_gpus(1, tmp_path):
            pass


def test_gpu_environment_pins_and_orders_devices():
    assert gpus.gpu_environment(["1", "3"]) == {
        "CUDA_VISIBLE_DEVICES": "1,3",
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
    }
    assert gpus.gpu_environment([])["CUDA_VISIBLE_DEVICES"] == ""


def test_an_unwritable_lock_dir_is_a_clear_error(fake_gpus, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(GpuAllocationError, match="ENERGYBENCH_GPU_LOCK_DIR"):
        with allocate_gpus(1, blocker / "locks"):
            pass


def test_real_gpus_go_one_to_each_job(monkeypatch, tmp_path):
    """Where NVIDIA GPUs exist, NVML finds them and concurrent jobs take one each."""
    for name in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES", gpu_pool.DEVICES_ENV):
        monkeypatch.delenv(name, raising=False)
    devices = discover_devices().devices
    if not devices:
        pytest.skip("no NVIDIA GPU on this machine")
    processes, held, release = start_holders([1] * len(devices), tmp_path / "locks")
    try:
        taken = [device for job_devices in held.values() for device in job_devices]
        assert sorted(taken) == sorted(devices)
    finally:
        stop(processes, release)
