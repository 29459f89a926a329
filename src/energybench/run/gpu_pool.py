"""The GPUs this node offers its jobs: the pool each job picks its devices from
(energybench.job.gpus locks them), and what a run started by hand counts as the machine's GPUs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEVICES_ENV = "ENERGYBENCH_GPU_DEVICES"
"""Comma-separated device ids that replace discovery (tests, or a pool chosen by hand)."""


@dataclass(frozen=True)
class DevicePool:
    """The GPUs a job may choose from, and who chose them."""

    devices: tuple[str, ...]
    source: str
    assigned_by_scheduler: bool


def _split_device_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _nvml_device_indices() -> tuple[str, ...]:
    """Indices of the GPUs NVML sees; none where there is no NVIDIA driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no library, no driver, no device: all mean "no GPUs here"
        return ()
    try:
        return tuple(str(index) for index in range(pynvml.nvmlDeviceGetCount()))
    finally:
        pynvml.nvmlShutdown()


def discover_devices(environ: Mapping[str, str] = os.environ) -> DevicePool:
    """Find the GPUs this job may use, in order of authority.

    1. Inside a SLURM job with CUDA_VISIBLE_DEVICES set: SLURM assigned them to this job.
    2. ENERGYBENCH_GPU_DEVICES: an explicit pool (tests, or a user keeping GPUs back).
    3. CUDA_VISIBLE_DEVICES set by the user: the pool that jobs share.
    4. Every GPU NVML sees on this node.
    """
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if "SLURM_JOB_ID" in environ and visible is not None:
        return DevicePool(_split_device_list(visible), "SLURM (CUDA_VISIBLE_DEVICES)", True)
    if DEVICES_ENV in environ:
        return DevicePool(_split_device_list(environ[DEVICES_ENV]), DEVICES_ENV, False)
    if visible is not None:
        return DevicePool(_split_device_list(visible), "CUDA_VISIBLE_DEVICES", False)
    return DevicePool(_nvml_device_indices(), "NVML", False)
