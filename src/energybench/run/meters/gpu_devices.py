"""Which physical GPUs a run uses: CUDA_VISIBLE_DEVICES and the run's device ids, mapped to NVML.

CUDA_VISIBLE_DEVICES may hold indices, GPU UUIDs (``GPU-…``, possibly shortened to a unique
prefix) or MIG instance UUIDs (``MIG-…``, or the older ``MIG-GPU-<uuid>/<gi>/<ci>``); CUDA
stops at the first entry that names no device. The run then numbers the visible devices 0, 1,
… ; ``gpu_devices`` are those numbers (or UUIDs). NVML numbers GPUs by PCI bus, CUDA fastest
first unless ``CUDA_DEVICE_ORDER=PCI_BUS_ID``: the two agree on identical GPUs, so with mixed
models an index is ambiguous and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_LEGACY_MIG = re.compile(r"^MIG-(GPU-[0-9A-Fa-f-]+)/\d+/\d+$")


@dataclass
class GpuDevice:
    device: str  # "gpu<N>": N is the index the run sees
    handle: Any  # NVML handle of the physical GPU
    uuid: str
    nvml_index: int
    visible_as: str  # the CUDA_VISIBLE_DEVICES entry (or NVML index) that exposed it
    mig_instance: str | None = None  # the MIG instance UUID when the run sees a MIG slice


@dataclass
class DeviceSelection:
    devices: list[GpuDevice]
    notes: list[str] = field(default_factory=list)
    reason: str | None = None  # why no device is selected


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _physical_gpus(nvml) -> list[tuple[Any, str, str]]:
    """(handle, uuid, name) of every GPU in NVML's (PCI bus) order."""
    gpus = []
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        gpus.append(
            (handle, _text(nvml.nvmlDeviceGetUUID(handle)), _text(nvml.nvmlDeviceGetName(handle)))
        )
    return gpus


def _resolve_entry(nvml, entry: str, uuids: list[str]) -> tuple[int, str | None] | None:
    """Physical NVML index (and MIG UUID) an entry names, or ``None`` if it names no device."""
    if re.fullmatch(r"\d+", entry):
        index = int(entry)
        return (index, None) if index < len(uuids) else None
    legacy = _LEGACY_MIG.match(entry)
    if legacy:
        parent = legacy.group(1)
        return (uuids.index(parent), entry) if parent in uuids else None
    if entry.startswith("MIG-"):
        try:
            mig_handle = nvml.nvmlDeviceGetHandleByUUID(entry)
            parent_uuid = _text(
                nvml.nvmlDeviceGetUUID(
                    nvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(mig_handle)
                )
            )
        except nvml.NVMLError:
            return None
        return (uuids.index(parent_uuid), entry) if parent_uuid in uuids else None
    matches = [i for i, uuid in enumerate(uuids) if uuid == entry] or [
        i for i, uuid in enumerate(uuids) if uuid.startswith(entry)
    ]
    return (matches[0], None) if len(matches) == 1 else None


def resolve_gpu_devices(
    nvml,
    cuda_visible_devices: str | None,
    gpu_devices: Sequence[int | str] | None = None,
    *,
    cuda_device_order: str | None = None,
) -> DeviceSelection:
    """Map the run's GPUs to NVML handles of physical GPUs, each counted once.

    Raises ``ValueError`` for a ``gpu_devices`` entry that names no visible GPU (a
    configuration error the user must fix).
    """
    gpus = _physical_gpus(nvml)
    uuids = [uuid for _, uuid, _ in gpus]
    notes: list[str] = []
    index_based = False

    if cuda_visible_devices is None:
        visible = [(str(i), i, None) for i in range(len(gpus))]
    else:
        visible = []
        for entry in (e.strip() for e in cuda_visible_devices.split(",")):
            resolved = _resolve_entry(nvml, entry, uuids) if entry else None
            if resolved is None:
                if entry:
                    notes.append(
                        f"CUDA_VISIBLE_DEVICES entry {entry!r} names no GPU; CUDA ignores it and every entry after it"
                    )
                break
            index_based |= entry.isdigit()
            visible.append((entry, *resolved))
    if not visible:
        where = (
            "NVML lists no GPU"
            if cuda_visible_devices is None
            else f"CUDA_VISIBLE_DEVICES={cuda_visible_devices!r}"
        )
        return DeviceSelection([], notes, f"no GPU visible to the run ({where})")

    if gpu_devices is None:
        chosen = list(range(len(visible)))
    else:
        chosen = []
        for wanted in gpu_devices:
            position = _visible_position(wanted, visible, uuids)
            if position is None:
                raise ValueError(
                    f"GPU device {wanted!r} is not among the GPUs visible to the run: "
                    f"{[entry for entry, _, _ in visible]} (CUDA_VISIBLE_DEVICES={cuda_visible_devices!r}). "
                    "Give the index the run sees (0 for its first GPU) or a GPU/MIG UUID from `nvidia-smi -L`."
                )
            index_based |= not str(wanted).startswith(("GPU-", "MIG-"))
            chosen.append(position)

    devices: list[GpuDevice] = []
    for position in chosen:
        entry, nvml_index, mig = visible[position]
        handle, uuid, _ = gpus[nvml_index]
        twin = next((d for d in devices if d.nvml_index == nvml_index), None)
        if twin is not None:
            notes.append(
                f"gpu{position} ({mig or uuid}) is on the same physical GPU as {twin.device}; "
                "the GPU is counted once"
            )
            continue
        devices.append(GpuDevice(f"gpu{position}", handle, uuid, nvml_index, entry, mig))

    models = {name for _, _, name in gpus}
    if index_based and len(models) > 1 and cuda_device_order != "PCI_BUS_ID":
        notes.append(
            f"GPUs of different models ({', '.join(sorted(models))}) and CUDA_DEVICE_ORDER is not PCI_BUS_ID: "
            "CUDA numbers them fastest first, NVML by PCI bus, so an index may name another GPU. "
            "Set CUDA_DEVICE_ORDER=PCI_BUS_ID or use GPU UUIDs."
        )
    return DeviceSelection(devices, notes)


def _visible_position(wanted: int | str, visible: list, uuids: list[str]) -> int | None:
    text = str(wanted).strip()
    if text.startswith("cuda:"):
        text = text[len("cuda:") :]
    if text.isdigit():
        position = int(text)
        return position if position < len(visible) else None
    for position, (entry, nvml_index, mig) in enumerate(visible):
        if text in (entry, mig, uuids[nvml_index]):
            return position
    return None
