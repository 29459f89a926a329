"""GPU pinning on one node: which device(s) a benchmark job may use.

`snakemake --resources gpu=N` caps how many GPUs the jobs running at once ask for in total,
but it does not say which device each job gets. Jobs therefore pick their devices here:
every device has a lock file, and a job holds an exclusive lock on each device it uses for
as long as it runs. The kernel drops the locks when the process ends, however it ends, so a
crashed or killed job never keeps a device.

Under SLURM the scheduler has already chosen: it puts the job's devices in
CUDA_VISIBLE_DEVICES, and they are used as they are, without locks.

Device ids are the strings CUDA_VISIBLE_DEVICES and `docker run --gpus device=...` take
(indices, or UUIDs where the pool is given as UUIDs). Indices are NVML's, which follow the
PCI bus order; `gpu_environment` makes CUDA number the devices the same way.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from energybench.run.gpu_pool import discover_devices

LOCK_DIR_ENV = "ENERGYBENCH_GPU_LOCK_DIR"
"""Directory of the per-device lock files; must be local to the node and shared by its jobs."""

DEFAULT_LOCK_DIR = Path("/tmp/energybench-gpu-locks")

DEFAULT_TIMEOUT_S = 600.0


class GpuAllocationError(RuntimeError):
    """A job cannot get the GPUs it needs."""


def gpu_environment(devices: Sequence[str]) -> dict[str, str]:
    """Environment that pins a process to `devices` (none: the process sees no GPU)."""
    return {"CUDA_VISIBLE_DEVICES": ",".join(devices), "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}


def _lock_file_name(device: str) -> str:
    return "gpu-" + re.sub(r"[^A-Za-z0-9._-]", "_", device) + ".lock"


def _lock_dir_error(path: Path, error: OSError) -> GpuAllocationError:
    return GpuAllocationError(
        f"Cannot use the GPU lock file or directory {path}: {error.strerror}. Jobs on one "
        f"node coordinate their GPUs through it; point {LOCK_DIR_ENV} at a node-local "
        "directory that every job of the run can write."
    )


def _prepare_lock_dir(lock_dir: Path) -> None:
    try:
        lock_dir.mkdir(parents=True)
        # Every user's jobs on the node share the directory, as they share the GPUs.
        os.chmod(lock_dir, 0o1777)
    except FileExistsError:
        return
    except OSError as error:
        raise _lock_dir_error(lock_dir, error) from error


def _try_lock(path: Path) -> int | None:
    """Lock `path` without waiting; the open descriptor holds the lock, None if taken."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise _lock_dir_error(path, error) from error
    try:
        os.fchmod(fd, 0o666)  # undo the umask, so other users' jobs can lock it too
    except PermissionError:
        pass  # another user's file: its owner has already opened it up
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    # Name the holder inside the file, for the message of a job that waits too long.
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _release(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)  # closing the only descriptor drops its lock


def _try_lock_devices(devices: Sequence[str], count: int, lock_dir: Path) -> dict[str, int]:
    """Lock `count` free devices, lowest first, or none at all (never hold while waiting)."""
    held: dict[str, int] = {}
    for device in devices:
        fd = _try_lock(lock_dir / _lock_file_name(device))
        if fd is not None:
            held[device] = fd
            if len(held) == count:
                return held
    _release(list(held.values()))
    return {}


def _holders(devices: Sequence[str], lock_dir: Path) -> str:
    described = []
    for device in devices:
        try:
            pid = (lock_dir / _lock_file_name(device)).read_text().strip()
        except OSError:
            pid = ""
        described.append(f"{device} (pid {pid or 'unknown'})")
    return ", ".join(described)


@contextmanager
def allocate_gpus(
    count: int,
    lock_dir: Path | str | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_interval_s: float = 0.2,
) -> Iterator[list[str]]:
    """Hold `count` GPUs of this node for the duration of the `with` block.

    Yields the device ids, to be passed on with `gpu_environment` (process runs) or
    `docker run --gpus device=<ids>` (containers). Two holders never share a device. When
    fewer than `count` are free, waits up to `timeout_s` seconds for other jobs to finish.
    `count` 0 yields an empty list. The lock directory defaults to $ENERGYBENCH_GPU_LOCK_DIR,
    else /tmp/energybench-gpu-locks.
    """
    if count < 0:
        raise ValueError(f"a job cannot need a negative number of GPUs ({count})")
    if count == 0:
        yield []
        return

    pool = discover_devices()
    if len(pool.devices) < count:
        raise GpuAllocationError(
            f"This job needs {count} GPU(s) but only {len(pool.devices)} are available "
            f"({pool.source}: {', '.join(pool.devices) or 'none'}). Give the model fewer "
            "GPUs in the model table, run it on a node with more, or, under SLURM, check "
            "that the rule's `gpu` resource equals the model's GPU count."
        )
    if pool.assigned_by_scheduler:
        yield list(pool.devices[:count])
        return

    lock_dir = Path(lock_dir or os.environ.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR)
    _prepare_lock_dir(lock_dir)
    deadline = time.monotonic() + timeout_s
    while not (held := _try_lock_devices(pool.devices, count, lock_dir)):
        if time.monotonic() >= deadline:
            raise GpuAllocationError(
                f"This job waited {timeout_s:g} s for {count} free GPU(s) of "
                f"{', '.join(pool.devices)} ({pool.source}), but other jobs hold "
                f"{_holders(pool.devices, lock_dir)} (locks in {lock_dir}). Is another "
                "workflow using this node's GPUs, or is `--resources gpu=N` larger than "
                "the number of GPUs?"
            )
        time.sleep(poll_interval_s)
    try:
        yield list(held)
    finally:
        _release(list(held.values()))


def gpu_capacity_problems(
    planned: Mapping[str, int], machine_gpus: int | None, resource_gpus: int | None
) -> list[str]:
    """Models whose planned GPU count no job could ever get, one sentence each: more than the
    machine that runs the jobs has (``machine_gpus``, None where unknown), or more than
    Snakemake may hand out at once (``--resources gpu=N``, None where not given). Said
    before any job runs, not after the others have run for days."""
    problems = []
    for model, gpus in planned.items():
        if machine_gpus is not None and gpus > machine_gpus:
            problems.append(
                f"model {model!r} takes {gpus} GPU(s) but the machine that runs "
                f"the jobs has {machine_gpus} (node_gpus)"
            )
        elif resource_gpus is not None and gpus > resource_gpus:
            problems.append(
                f"model {model!r} takes {gpus} GPU(s) but --resources gpu="
                f"{resource_gpus} lets no job hold more than {resource_gpus}; "
                f"give --resources gpu={gpus} or more"
            )
    return problems
