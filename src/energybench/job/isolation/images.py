"""Building the benchmark's container images.

`build_cpu_image` needs no registry: the base comes from `containers/build-cpu-base.sh`
(debootstrap + import), torch from a CPU wheel on this machine, the rest from PyPI through
the host's CA bundle. It never downloads a CUDA build of torch.

Command line (for CI): `energybench build-image --help`.
"""

import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from energybench.job.isolation.errors import ImageBuildError
from energybench.job.isolation.spec import CPU_IMAGE_TAG, DOCKER

# Staged files the CPU Dockerfile copies; git-ignored (under build/) but not docker-ignored.
STAGING_DIR = Path("build") / "container-context"
CPU_DOCKERFILE = Path("containers") / "Dockerfile.cpu"
BASE_SCRIPT = Path("containers") / "build-cpu-base.sh"
# The CPU image's Python (Debian bookworm's), which the torch wheel must match.
IMAGE_PYTHON_TAG = "cp311"
WHEEL_DIR_ENV = "ENERGYBENCH_TORCH_WHEEL_DIR"
DEFAULT_WHEEL_DIRS = (Path("/opt/wheels"),)
CA_BUNDLE_CANDIDATES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # Fedora, RHEL
)


def build_image(
    container_cli: str,
    dockerfile: Path,
    context: Path,
    tag: str,
    build_args: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> str:
    """Build `dockerfile` with `context`, tag it, and return the image id.

    Uses the host network (registry traffic must pass the host's proxy settings) and the
    engine's layer cache, so an unchanged rebuild only re-checks the layers.
    """
    with tempfile.TemporaryDirectory(prefix="energybench-build-") as scratch:
        id_file = Path(scratch) / "image-id"
        argv = [container_cli, "build", "--network", "host", "--file", str(dockerfile), "--tag", tag,
                "--iidfile", str(id_file)]  # fmt: skip
        for name, value in (build_args or {}).items():
            argv += ["--build-arg", f"{name}={value}"]
        argv.append(str(context))
        output_path = Path(log_path) if log_path else Path(scratch) / "build.log"
        output_path.parent.mkdir(parents=True, exist_ok=True)
        with open(output_path, "ab") as output:
            returncode = subprocess.run(
                argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            ).returncode
        if returncode != 0:
            tail = output_path.read_text(errors="replace").strip().splitlines()[-15:]
            raise ImageBuildError(
                f"building image {tag!r} from {dockerfile} failed (exit {returncode})"
                + (f"; full log: {log_path}" if log_path else "")
                + ". Last lines:\n"
                + "\n".join(tail)
            )
        return id_file.read_text().strip()


def torch_version(requirements: Path) -> str:
    match = re.search(r"^torch==([^\s;#]+)", requirements.read_text(), flags=re.MULTILINE)
    if not match:
        raise ImageBuildError(f"{requirements} does not pin torch (expected a line `torch==X.Y.Z`)")
    return match.group(1)


def _wheel_dirs() -> list[Path]:
    configured = [os.environ.get(WHEEL_DIR_ENV, "")] + os.environ.get("PIP_FIND_LINKS", "").split()
    return [Path(d) for d in configured if d and "://" not in d] + list(DEFAULT_WHEEL_DIRS)


def find_cpu_torch_wheel(version: str) -> Path:
    pattern = (
        f"torch-{version}+cpu-{IMAGE_PYTHON_TAG}-{IMAGE_PYTHON_TAG}-*_{platform.machine()}.whl"
    )
    searched = _wheel_dirs()
    for directory in searched:
        found = sorted(directory.glob(pattern))
        if found:
            return found[-1]
    raise ImageBuildError(
        f"no CPU build of torch {version} for Python 3.11 ({pattern}) was found in "
        f"{', '.join(map(str, searched))}. The CPU image installs torch from such a wheel so that "
        f"it never downloads a CUDA build; fetch one without CUDA, e.g. `pip download --no-deps "
        f"--only-binary=:all: --python-version 3.11 --index-url https://download.pytorch.org/whl/cpu "
        f"torch=={version} -d DIR`, and set {WHEEL_DIR_ENV}=DIR."
    )


def host_ca_bundle() -> Path:
    for candidate in [
        os.environ.get("PIP_CERT"),
        os.environ.get("SSL_CERT_FILE"),
        *CA_BUNDLE_CANDIDATES,
    ]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ImageBuildError(
        "no CA bundle found on this machine (looked at PIP_CERT, SSL_CERT_FILE and "
        f"{', '.join(map(str, CA_BUNDLE_CANDIDATES))}); the image needs it to reach PyPI."
    )


def _stage(source: Path, target: Path) -> None:
    """Put `source` at `target`, keeping an identical copy untouched (the cache sees content)."""
    if (
        target.exists()
        and target.stat().st_size == source.stat().st_size
        and (target.samefile(source) or target.read_bytes() == source.read_bytes())
    ):
        return
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)  # the wheel is ~200 MB: link rather than copy where possible
    except OSError:
        shutil.copyfile(source, target)


def stage_cpu_context(repo_root: Path) -> Path:
    """Put the host-only inputs of Dockerfile.cpu (torch wheel, CA bundle) into the context."""
    staging = repo_root / STAGING_DIR
    staging.mkdir(parents=True, exist_ok=True)
    wheel = find_cpu_torch_wheel(torch_version(repo_root / "requirements" / "ci.txt"))
    for stale in staging.glob("torch-*.whl"):
        if stale.name != wheel.name:
            stale.unlink()
    _stage(wheel, staging / wheel.name)
    _stage(host_ca_bundle(), staging / "ca-certificates.crt")
    return staging


def ensure_cpu_base(
    repo_root: Path,
    container_cli: str = DOCKER,
    log_path: Path | None = None,
    base_image: str | None = None,
) -> None:
    """Make the registry-free base image unless it exists (the script checks); `base_image`
    names it where not the script's default (a benchmark's cold build makes its own)."""
    environment = os.environ | ({"ENERGYBENCH_BASE_IMAGE": base_image} if base_image else {})
    with open(log_path, "ab") if log_path else open(os.devnull, "wb") as output:
        made = subprocess.run(
            ["bash", str(repo_root / BASE_SCRIPT), container_cli],
            stdout=output,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
    if made.returncode != 0:
        raise ImageBuildError(
            f"making the CPU base image with {BASE_SCRIPT} failed (exit {made.returncode}): "
            f"{made.stderr.decode(errors='replace').strip()}"
        )


def build_cpu_image(
    repo_root: Path,
    tag: str = CPU_IMAGE_TAG,
    container_cli: str = DOCKER,
    log_path: Path | None = None,
    base_image: str | None = None,
) -> str:
    """Build the CPU benchmark image from this checkout (on `base_image`, made first where
    missing; default: the Dockerfile's); return its image id."""
    repo_root = Path(repo_root).resolve()
    ensure_cpu_base(repo_root, container_cli, log_path, base_image)
    stage_cpu_context(repo_root)
    build_args = {"BASE_IMAGE": base_image} if base_image else None
    return build_image(
        container_cli, repo_root / CPU_DOCKERFILE, repo_root, tag, build_args, log_path
    )
