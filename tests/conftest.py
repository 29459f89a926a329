"""Shared test helpers.

Integration tests need real services (a Docker engine, a vLLM server, SLURM). On a laptop
without them they skip with the reason; under CI (CI=true, set by CI and by `.ci/run`)
a missing service is a failure, so CI can never go green by skipping them.
"""

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
WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "config", "data", "envs", "src", "profiles",
                  "containers", "requirements", "pyproject.toml", "README.md", ".dockerignore",
                  "report"]


def copy_workflow(destination: Path) -> Path:
    """A scratch copy of the workflow, so a test can edit its config and run it."""
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        else:
            shutil.copy2(source, destination / name)
    return destination


def vllm_importable() -> bool:
    """vLLM's own venv (.ci/install-vllm.sh, or ENERGYBENCH_VLLM_PYTHON) imports vllm."""
    import subprocess

    from energybench.backends.vllm.server import vllm_python

    python = vllm_python()
    return python.exists() and subprocess.run(
        [python, "-c", "import vllm"], capture_output=True, timeout=300).returncode == 0
