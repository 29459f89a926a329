"""The engine images against the real Docker engine (`.ci/start-docker.sh` starts it): the CPU
image, built once for the module, has CPU torch and the engine and rebuilds from the layer
cache; the GPU Dockerfile builds on a given base. With the Docker pipeline tests in one work
unit (tests/conftest.py): they build the same tag, energybench:cpu."""

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from conftest import cpu_base_image, require
from test_docker_runtime import docker

from energybench.job.isolation import container_cli
from energybench.job.isolation.images import build_cpu_image, build_image
from energybench.job.isolation.spec import CPU_IMAGE_TAG

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cpu_image():
    problem = container_cli.daemon_problem("docker")
    require(problem is None, f"no Docker engine: {problem} (run .ci/start-docker.sh as root)")
    cpu_base_image("docker")  # made once for both workers' container tests
    started = time.monotonic()
    image_id = build_cpu_image(REPO_ROOT, CPU_IMAGE_TAG)
    print(f"CPU image {image_id} built in {time.monotonic() - started:.1f} s")
    return image_id


def test_cpu_image_has_cpu_torch_and_the_engine_and_rebuilds_from_cache(cpu_image, tmp_path):
    check = docker(
        "run", "--rm", "--user", f"{os.getuid()}:{os.getgid()}", "--entrypoint", "python", cpu_image, "-c",
        "import importlib.metadata as m, torch, transformers, energybench;"
        "print(torch.__version__);"
        "print(sorted(d.metadata['Name'] for d in m.distributions() if d.metadata['Name'].startswith('nvidia-')))",
    )  # fmt: skip
    torch_version, nvidia_distributions = check.stdout.split("\n")[:2]
    assert torch_version.endswith("+cpu")
    assert nvidia_distributions == "['nvidia-ml-py']"  # NVML bindings only, no CUDA libraries
    entrypoint = docker(
        "image", "inspect", "--format", "{{json .Config.Entrypoint}}", cpu_image
    ).stdout
    assert json.loads(entrypoint) == ["energybench"]

    started = time.monotonic()
    assert build_cpu_image(REPO_ROOT, CPU_IMAGE_TAG) == cpu_image
    assert time.monotonic() - started < 30, "an unchanged rebuild must come from the layer cache"


def test_gpu_dockerfile_builds_on_a_given_base(cpu_image, tmp_path):
    # The real base (a PyTorch CUDA image) needs a registry; any base with pip and torch
    # exercises the same steps, offline, because every pinned requirement is already there.
    tag = f"energybench-test-gpu-dockerfile:{uuid.uuid4().hex[:8]}"
    try:
        image_id = build_image("docker", REPO_ROOT / "containers" / "Dockerfile", REPO_ROOT, tag,
                               {"BASE_IMAGE": cpu_image}, log_path=tmp_path / "build.log")  # fmt: skip
        entrypoint = docker(
            "image", "inspect", "--format", "{{json .Config.Entrypoint}}", image_id
        ).stdout
        assert json.loads(entrypoint) == ["energybench"]
    finally:
        docker("rmi", "-f", tag, check=False)
