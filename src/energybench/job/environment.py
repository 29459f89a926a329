"""The seed runner's environment variables, which the workflow reads when it is parsed.

``RESULTS_DIR`` (where outputs go), ``BENCHMARK_BACKEND`` (the backend of models that name
none) and ``DOCKER_IMAGE`` (the image of container runs that name none) keep their meaning.
All are optional, so they are read here rather than asserted with Snakemake's ``envvars``.
Variables one module alone needs are read, and documented, in that module: ``HF_HOME``
(energybench.job.isolation.spec), ``ENERGYBENCH_GPU_DEVICES`` (energybench.run.gpu_pool),
``ENERGYBENCH_GPU_LOCK_DIR`` (energybench.job.gpus), ``ENERGYBENCH_TORCH_WHEEL_DIR``
(energybench.job.isolation.images), ``ENERGYBENCH_VLLM_PYTHON``
(energybench.run.backends.vllm.server), and secrets, by the name a model's settings give.
"""

from __future__ import annotations

import os


def results_dir() -> str:
    return os.environ.get("RESULTS_DIR", "results").rstrip("/") or "results"


def default_backend() -> str | None:
    return os.environ.get("BENCHMARK_BACKEND") or None


def docker_image() -> str | None:
    return os.environ.get("DOCKER_IMAGE") or None


def put_first_on_pythonpath(path: str) -> None:
    """Make jobs (child processes) import energybench from ``path`` before anything installed."""
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != path]
    os.environ["PYTHONPATH"] = os.pathsep.join([path, *rest])
