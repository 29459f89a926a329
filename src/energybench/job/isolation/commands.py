"""Command lines for each runtime, built from a LaunchSpec and facts about the host.

Pure functions: nothing here runs anything, so every flag is unit-tested. Secrets never
appear in an argv nor in a container's stored configuration: docker and podman containers
get a mounted secrets file (energybench.job.secrets), apptainer `APPTAINERENV_*` variables in the
child's environment. Whatever the runtime, the child (the run, or the client that starts its
container) inherits none of the secrets the run does not need.
"""

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from energybench.job.gpus import gpu_environment
from energybench.job.isolation.errors import CAUSE_BAD_MOUNT, LaunchError
from energybench.job.isolation.spec import (
    APPTAINER,
    CONTAINER_RUNTIMES,
    HUB_CACHE_NONE,
    HUB_CACHE_READ,
    HUB_CACHE_WRITE,
    MODEL_LABEL,
    PIPELINE_LABEL,
    PODMAN,
    PRIVATE_HF_HOME,
    PROCESS,
    HostFacts,
    LaunchSpec,
)
from energybench.job.secrets import HUB_TOKENS, SECRETS_FILE_ENV
from energybench.job.workflow_guard import LIFELINE_ENV

# Characters that would split a --mount or --bind list and silently mount the wrong path, or
# start a quoted field in docker's --mount (which it reads as a CSV line).
_MOUNT_SEPARATORS = (",", ":", "\n", '"')
# Apptainer (and singularity) set X in the container from APPTAINERENV_X of its environment.
_CONTAINER_ENV_PREFIXES = ("APPTAINERENV_", "SINGULARITYENV_")


@dataclass(frozen=True)
class Mount:
    path: Path
    read_only: bool


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    # Variables to add to the launcher's own environment for the child process.
    env: Mapping[str, str]
    # Variables of the launcher's environment the child must not inherit (secrets it does not need).
    unset: tuple[str, ...] = ()

    def child_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        return {
            name: value for name, value in {**environ, **self.env}.items() if name not in self.unset
        }


def mount_problem(path: str | Path) -> str | None:
    """Why a container cannot be given ``path``, or None."""
    if any(separator in str(path) for separator in _MOUNT_SEPARATORS):
        return (
            f"cannot mount {str(path)!r} into the container: paths containing ',', ':', "
            "'\"' or a newline are not supported by the mount syntax; move or link it to a "
            "plain path, or use runtime: process"
        )
    return None


def mounts_for(spec: LaunchSpec) -> list[Mount]:
    """Host paths the run needs, parents before children so nested mounts layer correctly."""
    writable = [spec.run_dir] + (
        [spec.hf_home_or_default] if spec.hub_cache == HUB_CACHE_WRITE else []
    )
    read_only = [*spec.read_only_mounts] + (
        [spec.hf_home_or_default] if spec.hub_cache == HUB_CACHE_READ else []
    )
    by_path: dict[Path, bool] = {Path(os.path.abspath(p)): False for p in writable}
    for path in read_only:
        by_path.setdefault(Path(os.path.abspath(path)), True)
    for path in by_path:
        if mount_problem(path):
            raise LaunchError(
                f"model {spec.model_key!r}: {mount_problem(path)}",
                model_key=spec.model_key,
                cause=CAUSE_BAD_MOUNT,
            )
    ordered = sorted(by_path.items(), key=lambda item: (len(item[0].parts), str(item[0])))
    return [Mount(path, read_only) for path, read_only in ordered]


def hub_environment(spec: LaunchSpec, in_container: bool) -> dict[str, str]:
    """HF_HOME and the Hub switches for the run: a run without the cache works offline, in a
    container with a cache of its own, in a process without reading a saved token; a run
    that only reads the cache works offline."""
    env = {"HF_HOME": str(spec.hf_home_or_default)}
    if spec.hub_cache == HUB_CACHE_NONE:
        env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_IMPLICIT_TOKEN="1")
        if in_container:
            env["HF_HOME"] = PRIVATE_HF_HOME
        else:
            env["HF_TOKEN_PATH"] = os.devnull  # the same user can read the cache's token file
    elif spec.hub_cache == HUB_CACHE_READ:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def withheld_variables(spec: LaunchSpec) -> tuple[str, ...]:
    """What the child must not inherit: the spec's withheld secrets and the Hub tokens it does
    not need, also in the forms apptainer and singularity copy into a container."""
    names = set(spec.withheld_secrets) | (set(HUB_TOKENS) - set(spec.secret_names))
    forwarded = {prefix + name for name in names for prefix in _CONTAINER_ENV_PREFIXES}
    return tuple(sorted(names | forwarded))


def build_command(
    spec: LaunchSpec,
    runtime: str,
    host: HostFacts,
    *,
    image_ref: str | None = None,
    container_name: str | None = None,
    secrets_path: Path | None = None,
) -> Command:
    """The command that runs the benchmark for `spec` under a resolved (non-auto) runtime."""
    if runtime == PROCESS:
        return _process_command(spec, host)
    if runtime in CONTAINER_RUNTIMES:
        return _container_command(
            spec, runtime, host, image_ref or spec.image_or_default, container_name, secrets_path
        )
    if runtime == APPTAINER:
        return _apptainer_command(spec, host)
    raise ValueError(f"no command for runtime {runtime!r} (resolve 'auto' first)")


def _process_command(spec: LaunchSpec, host: HostFacts) -> Command:
    env = {
        **hub_environment(spec, in_container=False),
        "PYTHONUNBUFFERED": "1",
        LIFELINE_ENV: "stdin",
    }
    if spec.gpus is not None:
        env.update(gpu_environment(spec.gpus))
    return Command(
        argv=(sys.executable, "-m", "energybench", *spec.benchmark_args),
        env=env,
        unset=withheld_variables(spec),
    )


def _container_command(
    spec: LaunchSpec,
    container_cli: str,
    host: HostFacts,
    image_ref: str,
    container_name: str | None,
    secrets_path: Path | None = None,
) -> Command:
    if not container_name:
        raise ValueError("a container run needs a unique container name")
    argv = [
        container_cli, "run", "--rm", "--init", "--pull", "never",
        "--name", container_name,
        "--label", f"{PIPELINE_LABEL}=1",
        "--label", f"{MODEL_LABEL}={spec.model_key}",
        "--user", f"{host.uid}:{host.gid}",
        "--shm-size", spec.shm_size,
        "--workdir", str(spec.run_dir),
    ]  # fmt: skip
    if container_cli == PODMAN and host.uid != 0:
        # Rootless podman maps the caller to root unless told to keep the caller's id.
        argv += ["--userns", "keep-id"]
    argv += _container_gpu_args(spec.gpus, host.has_gpus, container_cli)
    if spec.cpus is not None:
        argv += ["--cpus", f"{spec.cpus:g}"]
    if spec.memory is not None:
        # Same value for memory+swap: a run that swaps measures the disk, not the model.
        argv += ["--memory", spec.memory, "--memory-swap", spec.memory]
    for mount in mounts_for(spec):
        options = f"type=bind,source={mount.path},target={mount.path}"
        argv += ["--mount", options + (",readonly" if mount.read_only else "")]
    # -i: the launcher's pipe reaches the run's stdin, which ends when the launcher dies.
    argv += ["-i", "-e", f"{LIFELINE_ENV}=stdin"]
    for name, value in hub_environment(spec, in_container=True).items():
        argv += ["-e", f"{name}={value}"]
    unset = withheld_variables(spec)
    for name in spec.env_passthrough:
        if name not in unset:  # by name only: the engine copies the value from our environment
            argv += ["-e", name]
    if secrets_path is not None:
        # Writable: the run deletes the file once it has read it.
        argv += [
            "--mount",
            f"type=bind,source={secrets_path.parent},target={secrets_path.parent}",
            "-e",
            f"{SECRETS_FILE_ENV}={secrets_path}",
        ]
    argv += [image_ref, *spec.benchmark_args]
    return Command(argv=tuple(argv), env={}, unset=unset)


def _container_gpu_args(
    gpus: tuple[str, ...] | None, host_has_gpus: bool, container_cli: str
) -> list[str]:
    if gpus is None:
        devices = ["all"] if host_has_gpus else []
    else:
        devices = list(gpus)
    if not devices:
        return []
    if container_cli == PODMAN:
        # Podman reaches NVIDIA GPUs through CDI device names.
        return [arg for d in devices for arg in ("--device", f"nvidia.com/gpu={d}")]
    if devices == ["all"]:
        return ["--gpus", "all"]
    # Docker parses --gpus as CSV: the device list must be quoted to keep its commas.
    return ["--gpus", f'"device={",".join(devices)}"']


def _apptainer_command(spec: LaunchSpec, host: HostFacts) -> Command:
    image = spec.image_or_default
    if not (image.endswith(".sif") or "://" in image):
        image = f"docker-daemon://{image}"
    argv = ["apptainer", "exec", "--cleanenv", "--no-home", "--pwd", str(spec.run_dir)]
    wants_gpus = host.has_gpus if spec.gpus is None else bool(spec.gpus)
    env: dict[str, str] = {}
    if wants_gpus:
        argv.append("--nv")
    if spec.gpus:
        for name, value in gpu_environment(spec.gpus).items():
            argv += ["--env", f"{name}={value}"]
    for mount in mounts_for(spec):
        argv += ["--bind", f"{mount.path}:{mount.path}" + (":ro" if mount.read_only else "")]
    argv += ["--env", f"{LIFELINE_ENV}=stdin"]
    for name, value in hub_environment(spec, in_container=True).items():
        argv += ["--env", f"{name}={value}"]
    unset = withheld_variables(spec)
    for name in spec.env_passthrough + spec.secret_names:
        # --cleanenv drops the host environment; APPTAINERENV_X reaches the container as X
        # without the value ever appearing on a command line.
        if name in host.environ and name not in unset:
            env[f"APPTAINERENV_{name}"] = host.environ[name]
    argv += [image, "energybench", *spec.benchmark_args]
    return Command(argv=tuple(argv), env=env, unset=unset)
