"""Multi-GPU PyTorch as AI Energy Score runs it: a model spread (device_map auto) over every
GPU its job holds, the devices locked, each metered, and the report saying where the model
was. Tested with a fake device list, the NVML stand-in, and, where transformers allows a
split on the CPU, a tiny model across two devices (the CPU and disk offload)."""

import pytest

from energybench.run import gpu_pool
from energybench.run.backends import pytorch
from energybench.run.backends.pytorch import PyTorchBackend
from energybench.run.settings import RunConfig
from energybench.plan.config import load_yaml, resolve_model
from energybench.job.gpus import GpuAllocationError, allocate_gpus, gpu_environment
from energybench.run.meters import EnergyMonitor
from energybench.job.tiny import build_tiny_model

from conftest import REPO_ROOT
from fake_nvml import FakeGpu, FakeNvml

TINY = {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "vocab_size": 512, "seed": 0}
# Room on "the CPU" for the embeddings and head of TINY, not its layers: those go to disk.
CPU_BYTES = 1_600_000


def test_a_job_taking_two_gpus_locks_both_and_shows_the_run_both(monkeypatch, tmp_path):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv(gpu_pool.DEVICES_ENV, "0,1")  # the node's two (stand-in) GPUs
    with allocate_gpus(2, tmp_path) as held:
        assert held == ["0", "1"]
        assert gpu_environment(held)["CUDA_VISIBLE_DEVICES"] == "0,1"
        with pytest.raises(GpuAllocationError, match=r"other jobs hold 0 \(pid \d+\), 1"):
            with allocate_gpus(1, tmp_path, timeout_s=0.1, poll_interval_s=0.02):
                pass


def test_several_gpus_are_filled_by_accelerate_up_to_their_free_memory(monkeypatch):
    free = {0: 70 << 30, 1: 60 << 30}
    monkeypatch.setattr("torch.cuda.mem_get_info", lambda index: (free[index], 80 << 30))
    assert pytorch.spread_placement(2) == {"device_map": "auto", "max_memory": free}
    assert pytorch.spread_placement(1) is None and pytorch.spread_placement(0) is None


def test_a_spread_model_runs_and_both_stand_in_gpus_are_metered(monkeypatch, tmp_path):
    model_dir = build_tiny_model(tmp_path / "model", **TINY)
    config = load_yaml(REPO_ROOT / "config/config.yaml")
    entry = {
        "id": str(model_dir),
        "device": "cpu",
        "batch_size": 1,
        "num_prompts": 2,
        "warmup_prompts": 1,
        "max_new_tokens": 4,
        "dataset": str(REPO_ROOT / "data/prompts.jsonl"),
    }
    cfg = RunConfig.from_dict(resolve_model("m", entry, config["defaults"], config["measurement"]))
    # The CPU split stands in for the GPUs: what the backend does with a placement is the same
    monkeypatch.setattr(
        pytorch,
        "spread_placement",
        lambda count: {
            "device_map": "auto",
            "max_memory": {"cpu": CPU_BYTES},
            "offload_folder": str(tmp_path / "offload"),
        },
    )
    nvml = FakeNvml(
        [
            FakeGpu("GPU-aaaa", power_w=250.0),
            FakeGpu("GPU-bbbb", power_w=150.0),
            FakeGpu("GPU-cccc", power_w=90.0),
        ]
    )
    with (
        EnergyMonitor.create(
            powercap_root=tmp_path, nvml=nvml, environ={"CUDA_VISIBLE_DEVICES": "0,1"}
        ) as monitor,
        PyTorchBackend(cfg) as backend,
    ):
        backend.warm_up()
        trial = backend.run_trial(0, monitor)
        info = backend.info()
    assert info["devices"] == ["cpu", "disk"]
    assert set(info["device_map"].values()) == {"cpu", "disk"}
    # Whole passes over the 2 prompts, repeated until the window is long enough to meter.
    tokens = trial.summary["total_completion_tokens"]
    assert tokens >= 2 * 4 and tokens % (2 * 4) == 0
    gpu = trial.window.components["gpu"]
    assert gpu.devices == ["gpu0", "gpu1"]  # the job's two, not the node's third
    per_device = gpu.detail["per_device_j"]
    duration = trial.window.duration_s
    assert per_device["gpu0"] == pytest.approx(250.0 * duration, rel=1e-6)
    assert per_device["gpu1"] == pytest.approx(150.0 * duration, rel=1e-6)
