"""The isolation layer: how a benchmark run is started, a plain process, docker, podman or
apptainer, supervised and cleaned up.

    spec = LaunchSpec(model_key, runtime, benchmark_args, log_path, run_dir, image=..., gpus=...)
    result = launch(spec)          # LaunchResult on exit 0; LaunchError (with .cause) otherwise
    prepared = prepare(spec)       # or in two steps: resolved runtime, image id, container name,
    result = run_prepared(prepared)  # ... known before the run starts
    runtime = resolve_runtime("auto")
    image_id = build_image("docker", dockerfile, context, tag, build_args)
    image_id = build_cpu_image(repo_root)
"""

from energybench.job.isolation.spec import HostFacts
from energybench.job.isolation.commands import build_command
from energybench.job.isolation.container_cli import resolve_runtime
from energybench.job.isolation.errors import ImageBuildError, LaunchError
from energybench.job.isolation.images import build_cpu_image, build_image
from energybench.job.isolation.supervise import launch, prepare, run_prepared
from energybench.job.isolation.spec import (
    CONTAINER_RUNTIMES,
    CPU_IMAGE_TAG,
    MODEL_LABEL,
    PIPELINE_LABEL,
    RUNTIMES,
    LaunchResult,
    LaunchSpec,
    PreparedLaunch,
    default_hf_home,
    default_image,
)

__all__ = [
    "CONTAINER_RUNTIMES",
    "CPU_IMAGE_TAG",
    "MODEL_LABEL",
    "PIPELINE_LABEL",
    "RUNTIMES",
    "HostFacts",
    "ImageBuildError",
    "LaunchError",
    "LaunchResult",
    "LaunchSpec",
    "PreparedLaunch",
    "build_command",
    "build_cpu_image",
    "build_image",
    "default_hf_home",
    "default_image",
    "launch",
    "prepare",
    "run_prepared",
    "resolve_runtime",
]
