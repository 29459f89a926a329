"""Settings of one model that contradict each other, the machine or the files they name.

The schema checks each field alone; these rules look at several at once, and at local files
when that is cheap, so a contradiction stops the workflow before any run instead of being
silently ignored (a minimum output length above the maximum) or failing hours later (a
dataset the loader cannot read). Each problem is one sentence naming the fields.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from energybench.job import environment
from energybench.plan.config import TINY_MODELS_DIR
from energybench.run.errors import ConfigError
from energybench.run.settings import (
    DATASET_SUFFIXES,
    RunConfig,
    contradictions,
    is_local_model,
    local_inputs,
    with_planned_gpus,
)
from energybench.job.isolation.commands import mount_problem
from energybench.job.isolation.spec import APPTAINER, CONTAINER_RUNTIMES
from energybench.job.secrets import unset_secrets
from energybench.run.quantization import (
    COMPILED_CPU_KERNEL,
    already_quantized,
    checkpoint_config,
)

# Extensions of files people mistake for prompt sets; other dotted names may be Hub datasets.
FILE_LIKE_SUFFIXES = {
    ".txt",
    ".tsv",
    ".xlsx",
    ".xls",
    ".yaml",
    ".yml",
    ".gz",
    ".zip",
    ".bz2",
    ".xz",
    ".arrow",
    ".feather",
    ".pkl",
    ".pickle",
    ".md",
    ".html",
    ".xml",
}


def output_length_problems(cfg: Mapping) -> list[str]:
    minimum = cfg.get("min_new_tokens")
    if minimum is not None and minimum > cfg["max_new_tokens"]:
        return [
            f"min_new_tokens ({minimum}) is above max_new_tokens ({cfg['max_new_tokens']}); "
            "set min_new_tokens <= max_new_tokens, or null for a fixed output length"
        ]
    return []


def image_problems(cfg: Mapping) -> list[str]:
    """Runtimes that need an image the workflow does not build."""
    if cfg.get("image") or environment.docker_image():
        return []
    if cfg["runtime"] == "apptainer":
        return [
            "runtime 'apptainer' needs `image` (a .sif file, or an image reference such as "
            "docker://org/energybench:cuda): the workflow builds images for docker and "
            "podman only"
        ]
    if cfg["runtime"] in ("docker", "podman") and cfg["gpus"]:
        return [
            f"runtime {cfg['runtime']!r} with gpus: {cfg['gpus']} needs `image` with CUDA "
            "(containers/Dockerfile.gpu): the image the workflow builds is CPU-only"
        ]
    return []


def dataset_problems(cfg: Mapping) -> list[str]:
    """A local dataset the loader cannot read. (Whether it has the column and enough prompts,
    all of them text, is energybench.run.prompts.check_prompt_counts's to say.)"""
    dataset = cfg["dataset"]
    path = Path(dataset).expanduser()
    suffix = path.suffix.lower()
    if path.is_dir():
        return [f"dataset {dataset!r} is a directory; name a {'/'.join(DATASET_SUFFIXES)} file"]
    if suffix in FILE_LIKE_SUFFIXES or (path.is_file() and suffix not in DATASET_SUFFIXES):
        return [
            f"dataset {dataset!r}: the loader reads {', '.join(DATASET_SUFFIXES)} files, "
            f"not {suffix or 'files without an extension'}; convert it (e.g. to .jsonl with "
            'one {"text": ...} object per line)'
        ]
    return []


def tiny_directory_problems(cfg: Mapping) -> list[str]:
    """resources/models/ belongs to the tiny-model rule, which deletes a directory there to
    rebuild it: a local model kept there would collide with it."""
    if "tiny" in cfg or not is_local_model(cfg["id"]):
        return []
    tiny_root = Path(TINY_MODELS_DIR).resolve()
    if tiny_root in Path(cfg["id"]).expanduser().resolve().parents:
        return [
            f"id {cfg['id']!r} lies under {TINY_MODELS_DIR}/, where the workflow builds "
            "(and on a rebuild deletes) its tiny models; keep local models elsewhere, "
            "e.g. models/<name>"
        ]
    return []


def mount_problems(cfg: Mapping) -> list[str]:
    """A local model or dataset whose path a container's mount syntax cannot carry, found
    when the workflow is parsed rather than when the run starts."""
    if cfg["runtime"] not in (*CONTAINER_RUNTIMES, APPTAINER):
        return []
    paths = [Path(path).expanduser().resolve() for path in local_inputs(cfg).values()]
    return [
        f"runtime {cfg['runtime']!r}: {problem}" for problem in map(mount_problem, paths) if problem
    ]


def quantization_problems(cfg: Mapping) -> list[str]:
    """Weight quantization the run cannot apply: on a backend that loads no weights itself,
    in the pipeline's CPU image where it needs a compiler, or to a checkpoint already
    quantized (a local one, or a Hub one whose config the cache holds)."""
    setting = cfg.get("quantization")
    if not setting:
        return []
    from energybench.run.backend_registry import (
        backend_class,
    )  # the backends import the configuration

    if not backend_class(cfg["backend"]).quantizes_weights:
        return [
            f"quantization: the {cfg['backend']} backend does not quantize weights as it "
            "loads them (optimum-quanto is the pytorch backend's); name a checkpoint "
            "quantized beforehand as `id` instead, or use backend: pytorch"
        ]
    problems = []
    if (
        setting["weights"] in COMPILED_CPU_KERNEL
        and not cfg["gpus"]
        and cfg["runtime"] in CONTAINER_RUNTIMES
        and not cfg.get("image")
        and not environment.docker_image()
    ):
        problems.append(
            f"quantization.weights {setting['weights']!r} on the CPU in the CPU image the "
            "workflow builds: optimum-quanto compiles its CPU kernel for it with a C++ "
            "compiler, which that image has none of; use weights: int8, runtime: process, "
            "or an `image` with a compiler"
        )
    found = checkpoint_config(cfg["id"]) if "tiny" not in cfg else None
    if found is None and "tiny" not in cfg and not is_local_model(cfg["id"]):
        found = _cached_hub_config(cfg["id"])
    why = already_quantized(found or {})
    if why:
        problems.append(f"quantization: {why}")
    return problems


def _cached_hub_config(model_id: str) -> dict | None:
    """A Hub model's config.json where the Hugging Face cache already holds it (never a
    download: the plan stays offline), else None."""
    from huggingface_hub import try_to_load_from_cache

    try:
        path = try_to_load_from_cache(model_id, "config.json")
    except ValueError:  # not a valid Hub id: the run says so
        return None
    return checkpoint_config(Path(path).parent) if isinstance(path, str) else None


def hub_id_notes(run_configs: Mapping[str, Mapping]) -> list[str]:
    """A sentence for each model whose id is read as a Hugging Face Hub id although it looks
    like a local path: its first part names a directory here, or nearly (a typo such as
    ``p7modles/m`` for ``p7models/m``). Notes, not refusals: an organisation on the Hub may
    share its name with a local directory."""
    directories = [path.name for path in Path.cwd().iterdir() if path.is_dir()]
    notes = []
    for key, cfg in run_configs.items():
        model_id = cfg["id"]
        if "tiny" in cfg or is_local_model(model_id) or "/" not in model_id:
            continue
        near = difflib.get_close_matches(model_id.split("/")[0], directories, n=1, cutoff=0.8)
        if near:
            notes.append(
                f"model {key!r}: id {model_id!r} names no local directory, so it is "
                f"read as a Hugging Face Hub id; the directory {near[0]}/ is here: "
                f"for a local model write its path, e.g. ./{near[0]}/..."
            )
    return notes


# A backend's own rules (its settings block) are its `config_problems`; the secrets it
# declares are checked here, like every backend's.
RULES = (
    output_length_problems,
    image_problems,
    dataset_problems,
    tiny_directory_problems,
    mount_problems,
    quantization_problems,
    unset_secrets,
)


def consistency_problems(cfg: Mapping) -> list[str]:
    """Every contradiction in one resolved run config."""
    return [problem for rule in RULES for problem in rule(cfg)]


def check_run_configs(
    run_configs: dict[str, dict], where: str | None = None, machine_has_gpus: bool = False
) -> None:
    """Fail before any run on incomplete settings, settings that contradict each other, or
    local files that do not exist. The settings themselves were checked against the schema
    with the files they come from (check_models_document, check_document)."""
    problems = []
    for key, cfg in run_configs.items():
        try:
            RunConfig.from_dict(cfg)
        except ConfigError as exc:
            problems.append(f"model {key!r}: {exc}")
            continue
        planned = with_planned_gpus(cfg, machine_has_gpus)
        problems += [
            f"model {key!r}: {problem}"
            for problem in contradictions(planned) + consistency_problems(planned)
        ]
        for role, path in local_inputs(cfg).items():
            built_by_workflow = role == "model_dir" and "tiny" in cfg
            if not built_by_workflow and not Path(path).expanduser().exists():
                what = "model directory" if role == "model_dir" else "dataset file"
                problems.append(f"model {key!r}: {what} {path!r} does not exist (in {Path.cwd()})")
    if problems:
        raise ConfigError((f"{where}: " if where else "") + "; ".join(problems))
