"""What a caller asks for when it launches one benchmark run, and what it gets back.

The seed's environment variables stay the defaults: `DOCKER_IMAGE` names the image and
`HF_HOME` the Hugging Face cache; `HF_TOKEN` reaches containers in a secrets file.
(`RESULTS_DIR` and `BENCHMARK_BACKEND` are read by the workflow, rules/common.smk.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from energybench.job import environment

PROCESS = "process"
DOCKER = "docker"
PODMAN = "podman"
APPTAINER = "apptainer"
AUTO = "auto"
RUNTIMES = (PROCESS, DOCKER, PODMAN, APPTAINER, AUTO)
# Runtimes that drive a Docker-compatible CLI (same flags, different binary).
CONTAINER_RUNTIMES = (DOCKER, PODMAN)

# How a run may use the Hugging Face cache (HF_HOME): not at all (a local model and dataset:
# the cache, and any token file a Hub login saved in it, stay out of its reach), read it (a
# cache filled beforehand, HF_HUB_OFFLINE=1), or read and write it (a download).
HUB_CACHE_NONE = "none"
HUB_CACHE_READ = "read"
HUB_CACHE_WRITE = "write"
# A container's own cache where it gets none of the host's.
PRIVATE_HF_HOME = "/tmp/huggingface"

CPU_IMAGE_TAG = "energybench:cpu"
PIPELINE_LABEL = "energybench.pipeline"
MODEL_LABEL = "energybench.model"
NVIDIA_PROC_DIR = Path("/proc/driver/nvidia/gpus")


def default_image() -> str:
    """The image a run uses when none is named: `DOCKER_IMAGE`, as in the seed."""
    return environment.docker_image() or CPU_IMAGE_TAG


def default_hf_home() -> Path:
    """The Hugging Face cache: `HF_HOME`, else the hub's own default."""
    configured = os.environ.get("HF_HOME")
    return Path(configured) if configured else Path.home() / ".cache" / "huggingface"


@dataclass(frozen=True)
class HostFacts:
    uid: int
    gid: int
    has_gpus: bool
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def detect(cls) -> "HostFacts":
        # The NVIDIA driver lists one entry per GPU here; no driver, no GPUs to hand out.
        has_gpus = NVIDIA_PROC_DIR.is_dir() and any(NVIDIA_PROC_DIR.iterdir())
        return cls(uid=os.getuid(), gid=os.getgid(), has_gpus=has_gpus, environ=dict(os.environ))


@dataclass(frozen=True)
class LaunchSpec:
    """One benchmark run: `energybench BENCHMARK_ARGS...` for one model, in the chosen runtime.

    `benchmark_args` use absolute host paths. Containers see every path they need at the same
    absolute path (run dir read-write, `read_only_mounts` read-only, the HF cache as far as
    `hub_cache` allows), so no argument is ever rewritten. `gpus`: device indices assigned to
    this job; None means all the machine has (none on a CPU-only machine); an empty list
    means no GPU. `cpus` and `memory` limit docker and podman containers; on clusters the
    scheduler limits apptainer.
    """

    model_key: str
    runtime: str
    benchmark_args: tuple[str, ...]
    log_path: Path
    run_dir: Path
    image: str | None = None
    read_only_mounts: tuple[Path, ...] = ()
    gpus: tuple[str, ...] | None = None
    shm_size: str = "8g"
    cpus: float | None = None
    memory: str | None = None
    env_passthrough: tuple[str, ...] = ()
    # Passed as a file to containers, never as `-e` (see energybench.job.secrets).
    secret_names: tuple[str, ...] = ("HF_TOKEN",)
    # Variables of the job's environment the run must not see (other models' secrets, anything
    # that looks secret: energybench.job.secrets.withheld_secrets); every runtime removes them.
    withheld_secrets: tuple[str, ...] = ()
    hf_home: Path | None = None
    hub_cache: str = HUB_CACHE_WRITE
    timeout_s: float | None = None
    stop_grace_s: float = 10.0

    def __post_init__(self):
        if self.runtime not in RUNTIMES:
            raise ValueError(
                f"model {self.model_key!r}: unknown runtime {self.runtime!r}; "
                f"choose one of {', '.join(RUNTIMES)}"
            )
        # Accept lists from callers but keep the spec hashable and immutable.
        object.__setattr__(self, "benchmark_args", tuple(str(a) for a in self.benchmark_args))
        object.__setattr__(self, "read_only_mounts", tuple(Path(p) for p in self.read_only_mounts))
        object.__setattr__(self, "env_passthrough", tuple(self.env_passthrough))
        object.__setattr__(self, "secret_names", tuple(self.secret_names))
        object.__setattr__(self, "withheld_secrets", tuple(self.withheld_secrets))
        if self.gpus is not None:
            object.__setattr__(self, "gpus", tuple(str(g) for g in self.gpus))
        object.__setattr__(self, "log_path", Path(self.log_path))
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        if self.hf_home is not None:
            object.__setattr__(self, "hf_home", Path(self.hf_home))

    @property
    def image_or_default(self) -> str:
        return self.image or default_image()

    @property
    def hf_home_or_default(self) -> Path:
        return self.hf_home or default_hf_home()


@dataclass(frozen=True)
class PreparedLaunch:
    """A run ready to start (energybench.job.isolation.prepare): how it will be launched."""

    spec: LaunchSpec
    runtime: str
    """The resolved runtime (never `auto`)."""
    host: HostFacts = field(repr=False)
    image_id: str | None = None
    container_name: str | None = None

    @property
    def image(self) -> str | None:
        """The image the run starts from (containers only)."""
        return self.spec.image_or_default if self.image_id else None


@dataclass(frozen=True)
class LaunchResult:
    """A finished, successful run: what the report's provenance records."""

    model_key: str
    runtime: str
    exit_code: int
    duration_s: float
    image: str | None = None
    image_id: str | None = None
    container_name: str | None = None
    command: tuple[str, ...] = field(default=(), repr=False)
