"""Where a report came from: software versions, hardware, code version and config hash."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import energybench

PACKAGES = ("torch", "transformers", "tokenizers", "numpy", "nvidia-ml-py", "aiohttp")
DIRECT = "direct"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def code_version(repo: Path | None = None) -> str | None:
    """The git commit (with -dirty) of ``repo``, by default the checkout this code lies in."""
    repo = repo or Path(energybench.__file__).resolve().parents[2]
    try:
        return (
            subprocess.run(
                ["git", "-C", str(repo), "describe", "--always", "--dirty", "--abbrev=12"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def hardware() -> dict:
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
    }


SCHEDULER_ENV = (
    "SLURM_JOB_ID",
    "SLURM_JOB_PARTITION",
    "SLURM_JOB_NODELIST",
    "CUDA_VISIBLE_DEVICES",
)


def scheduler() -> dict:
    """The batch job and devices this run was given, where a scheduler set them."""
    return {name.lower(): os.environ.get(name) for name in SCHEDULER_ENV}


@dataclass(frozen=True)
class Launch:
    """How a run was launched. The job layer, which knows, hands it down in the run config's
    ``launch`` block before the run starts (a run in a container has no git checkout to ask
    for the code version); the run writes it into its report once."""

    runtime: str
    """process, docker, podman or apptainer (resolved, never auto); direct: by hand."""
    code_version: str | None
    image: str | None = None
    image_id: str | None = None
    gpus: list[str] | None = None
    """The devices the job was given; None: not assigned (all the machine has)."""
    container: str | None = None

    @property
    def in_container(self) -> bool:
        """Whether the run has a container of its own (docker, podman: the job names it)."""
        return self.container is not None

    @classmethod
    def direct(cls) -> Launch:
        """`energybench run` called by hand, outside the job layer."""
        return cls(runtime=DIRECT, code_version=code_version())

    @classmethod
    def from_dict(cls, data: dict) -> Launch:
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    def runtime_block(self) -> dict:
        """The report's ``provenance.runtime``."""
        return {
            "name": self.runtime,
            "image": self.image,
            "image_id": self.image_id,
            "gpus": self.gpus,
            "container": self.container,
        }


def collect(
    config_hash: str | None,
    launch: Launch,
    started_at: str | None = None,
    extra: dict | None = None,
) -> dict:
    return {
        "energybench_version": energybench.__version__,
        "code_version": launch.code_version,
        "config_hash": config_hash,
        "runtime": launch.runtime_block(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "hardware": hardware(),
        "scheduler": scheduler(),
        "started_at": started_at or now_iso(),
        "finished_at": now_iso(),
        **(extra or {}),
    }
