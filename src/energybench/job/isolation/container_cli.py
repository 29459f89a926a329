"""Questions and orders for a Docker-compatible container CLI (docker or podman).

Everything goes through the CLI rather than an SDK so that docker and podman share one code
path, and so that what runs is exactly what a user would type.
"""

import logging
import platform
import re
import subprocess
import time
from dataclasses import dataclass

from energybench.job.isolation.errors import (
    CAUSE_IMAGE_ARCHITECTURE,
    CAUSE_IMAGE_MISSING,
    CAUSE_RUNTIME_UNAVAILABLE,
    LaunchError,
)
from energybench.job.isolation.spec import AUTO, DOCKER, PROCESS, RUNTIMES

log = logging.getLogger(__name__)

CLI_QUERY_TIMEOUT_S = 30
# Engines whose events include every out-of-memory kill of a container (`oom`).
ENGINES_WITH_OOM_EVENTS = (DOCKER,)
# Kernel machine names -> the architecture names images carry (OCI/Go GOARCH).
_OCI_ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


@dataclass(frozen=True)
class ImageInfo:
    id: str
    os: str
    architecture: str


def _cli(
    container_cli: str, *args: str, timeout: float = CLI_QUERY_TIMEOUT_S
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [container_cli, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def daemon_problem(container_cli: str) -> str | None:
    """None when the engine answers, else a sentence saying why it does not."""
    try:
        answer = _cli(container_cli, "info")
    except FileNotFoundError:
        return f"the `{container_cli}` command is not installed (not found on PATH)"
    except subprocess.TimeoutExpired:
        return f"`{container_cli} info` did not answer within {CLI_QUERY_TIMEOUT_S} s"
    if answer.returncode != 0:
        return f"`{container_cli} info` failed: {_last_line(answer.stderr or answer.stdout)}"
    return None


def require_daemon(container_cli: str, model_key: str) -> None:
    problem = daemon_problem(container_cli)
    if problem:
        raise LaunchError(
            f"model {model_key!r}: the {container_cli} container engine does not answer ({problem}). "
            f"Start it (for example `.ci/start-docker.sh` or `systemctl start {container_cli}`), check "
            f"DOCKER_HOST, or choose `runtime: process` for this model.",
            model_key=model_key,
            cause=CAUSE_RUNTIME_UNAVAILABLE,
        )


def resolve_runtime(requested: str) -> str:
    """The runtime a run will use: `auto` becomes docker where a daemon answers, else process."""
    if requested not in RUNTIMES:
        raise ValueError(f"unknown runtime {requested!r}; choose one of {', '.join(RUNTIMES)}")
    if requested != AUTO:
        return requested
    problem = daemon_problem(DOCKER)
    if problem is None:
        return DOCKER
    log.warning("runtime auto: using a plain process, not docker, because %s", problem)
    return PROCESS


def host_architecture() -> str:
    # Same-path mounts only make sense with the engine on this host, so its machine is ours.
    machine = platform.machine().lower()
    return _OCI_ARCHITECTURES.get(machine, machine)


def inspect_image(container_cli: str, image: str) -> ImageInfo | None:
    answer = _cli(
        container_cli, "image", "inspect", "--format", "{{.Id}}|{{.Os}}|{{.Architecture}}", image
    )
    if answer.returncode != 0:
        return None
    image_id, image_os, architecture = answer.stdout.strip().split("|")
    return ImageInfo(id=image_id, os=image_os, architecture=architecture)


def require_runnable_image(container_cli: str, image: str, model_key: str) -> ImageInfo:
    """The local image's id, after checking it exists and suits this machine (never pulls)."""
    info = inspect_image(container_cli, image)
    if info is None:
        raise LaunchError(
            f"model {model_key!r}: the image {image!r} does not exist in the local {container_cli} "
            f"engine, and the pipeline never pulls images. Build it first (the CPU image: "
            f"`energybench build-image --tag {image}`), or name an existing "
            f"image with the model's `image` setting or DOCKER_IMAGE.",
            model_key=model_key,
            cause=CAUSE_IMAGE_MISSING,
        )
    host = host_architecture()
    if info.architecture != host or info.os != "linux":
        raise LaunchError(
            f"model {model_key!r}: the image {image!r} was built for "
            f"{info.os}/{info.architecture} but this machine is linux/{host}; rebuild the "
            f"image on (or for) this machine.",
            model_key=model_key,
            cause=CAUSE_IMAGE_ARCHITECTURE,
        )
    return info


def oom_event(container_cli: str, name: str, since: float) -> bool | None:
    """Whether the engine recorded an out-of-memory kill of the container ``name`` since
    ``since`` (a Unix time); None when it cannot tell: its events cannot be read, or it does
    not record such kills (podman 4 records only that the container died). The events
    outlive the container, which `--rm` removes as soon as it exits."""
    if container_cli not in ENGINES_WITH_OOM_EVENTS:
        return None
    try:
        # Whole seconds, rounded down with a second to spare: rounding a start at x.6 up
        # would miss a kill in its first 0.4 s (the filter on the name keeps others out).
        answer = _cli(
            container_cli,
            "events",
            "--since",
            f"{int(since) - 1}",
            "--until",
            f"{time.time() + 1:.0f}",
            "--filter",
            f"container={name}",
            "--filter",
            "event=oom",
            "--format",
            "{{.Status}}",
        )
    except subprocess.TimeoutExpired:
        return None
    return "oom" in answer.stdout if answer.returncode == 0 else None


def containers_named(container_cli: str, name: str) -> list[str]:
    answer = _cli(container_cli, "ps", "-a", "-q", "--filter", f"name=^/?{re.escape(name)}$")
    return answer.stdout.split() if answer.returncode == 0 else []


def stop_container(container_cli: str, name: str, grace_s: float) -> None:
    """Ask the container to stop (its init forwards SIGTERM), killing it after `grace_s`."""
    try:
        _cli(
            container_cli,
            "stop",
            "-t",
            str(int(grace_s)),
            name,
            timeout=grace_s + CLI_QUERY_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        log.warning("%s stop %s did not return; removing it by force", container_cli, name)


def ensure_container_gone(
    container_cli: str, name: str, settle_s: float = 0.0, attempts: int = 10
) -> None:
    """Remove the container if it exists, however far its start got; with `settle_s`, keep
    checking that long for one whose creation was still under way."""
    settle_until = time.monotonic() + settle_s
    for attempt in range(1, attempts + 1):
        present = containers_named(container_cli, name)
        if not present and time.monotonic() >= settle_until:
            return
        if present:
            # `rm -f` races with --rm's own removal; either way the container goes.
            _cli(container_cli, "rm", "-f", name)
        time.sleep(0.2 * attempt)
    leftovers = containers_named(container_cli, name)
    if leftovers:
        log.error(
            "container %s (%s) could not be removed; remove it with `%s rm -f %s`",
            name,
            " ".join(leftovers),
            container_cli,
            name,
        )
