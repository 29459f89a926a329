"""The settings of one run: the typed run config (`RunConfig`), parsed from the resolved
run config the workflow hands over (a plain JSON-able dict, validated when the workflow was
parsed), or checked first where it did not come from the workflow (written by hand, or changed
by Hydra-style overrides on the command line); the local inputs it names, and the settings that
contradict each other. The settings themselves, their types and which a run config must have,
are declared once in energybench.run.model_settings.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from energybench.run.backend_registry import backend_class, planned_gpus
from energybench.run.errors import ConfigError
from energybench.run.gpu_pool import discover_devices
from energybench.run.model_settings import (
    ISOLATION_FIELDS,
    REQUIRED_SETTINGS,
    SETTINGS,
    Isolation,
    Measurement,
)
from energybench.run.schema import check_document, package_schema
from energybench.run.tasks import task_problems


DATASET_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def is_local_dataset(dataset: str) -> bool:
    """A dataset is a local file when it has a known file suffix or names an existing path."""
    return Path(dataset).suffix.lower() in DATASET_SUFFIXES or Path(dataset).exists()


def is_local_model(model_id: str) -> bool:
    """Local directories are existing paths or explicit ones; others are Hugging Face ids."""
    return (
        Path(model_id).exists()
        or model_id.startswith(("/", "./", "../", "~"))
        or model_id.count("/") > 1
    )


def local_inputs(run_config: dict) -> dict[str, str]:
    """The local files and directories one run reads, by role (for Snakemake inputs)."""
    inputs = {}
    if "tiny" in run_config or is_local_model(run_config["id"]):
        inputs["model_dir"] = run_config["id"]
    if is_local_dataset(run_config["dataset"]):
        inputs["dataset"] = run_config["dataset"]
    return inputs


def with_planned_gpus(cfg: dict, machine_has_gpus: bool) -> dict:
    """``cfg`` with ``gpus: auto`` counted as it will be planned on a machine that has GPUs
    or not: what the checks of contradictions compare."""
    return {**cfg, "gpus": planned_gpus(cfg, machine_has_gpus)}


def contradictions(cfg: dict) -> list[str]:
    """Settings that contradict each other (``cfg`` with its GPUs planned)."""
    problems = []
    if cfg["device"] == "cuda" and cfg["gpus"] == 0:
        problems.append(
            "device 'cuda' needs gpus >= 1 (the job's GPUs; `gpus: auto` takes "
            "none where the machine that runs the jobs has no GPU: node_gpus)"
        )
    if cfg["device"] == "cpu" and cfg["gpus"] > 0:
        problems.append(
            f"device 'cpu' with gpus: {cfg['gpus']}: the job would hold GPUs "
            "the run never uses (leave gpus at auto, or set it to 0)"
        )
    return problems + backend_class(cfg["backend"]).config_problems(cfg) + task_problems(cfg)


def canonical(value: Any) -> Any:
    """``value`` in the one form that equal settings share: mappings with sorted keys, and
    whole-number floats as integers (``5.0`` given on the command line is the ``5`` of a YAML
    file). Restating a default, reordering keys or writing a value in another file then
    changes nothing that is compared or hashed."""
    if isinstance(value, collections.abc.Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fields(instance, skip: tuple[str, ...] = ()) -> dict:
    """A dataclass instance's fields as a shallow dict."""
    return {
        f.name: getattr(instance, f.name)
        for f in dataclasses.fields(instance)
        if f.name not in skip
    }


# The values of the `aes_reasoning` setting: a row of an AES model list imported as AES's
# runner runs it (effective) or as its reasoning state says (stated; docs/aes.md).
EFFECTIVE, STATED = "effective", "stated"
AES_REASONING = (EFFECTIVE, STATED)

# Settings left out of the resolved config while unset, so adding them changed no digest.
UNSET_WHEN_EMPTY = (
    "temperature",
    "prompt_prefix",
    "reasoning_state",
    "priority",
    "protocol",
    "aes_reasoning",
    "prompt_overflow",
    "quantization",
)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """A resolved run config, typed for the run: the settings energybench.run.model_settings
    declares (a test keeps these fields in step with its models), read from a run config
    checked against the schema generated from them, without checking them again."""

    model: str
    id: str
    backend: str
    task: str
    model_class: str
    reasoning: bool
    reasoning_params: dict
    dtype: str
    device: str
    batch_size: int
    max_new_tokens: int
    num_prompts: int
    warmup_prompts: int
    dataset: str
    dataset_column: str
    dataset_split: str
    seed: int
    measurement: Measurement
    isolation: Isolation
    min_new_tokens: int | None = None
    trials: int | None = None
    tiny: dict | None = None
    backend_block: dict | None = None
    """The backend's own block of settings (the run config's field named after the backend)
    as written: what `to_dict` gives back, so the digest and the report's config are those of
    the settings as the workflow resolved them, whatever the defaults."""
    task_block: dict | None = None
    """The task's own block of settings (the run config's field named after the task, e.g.
    ``image_generation``) as written; the task's implementation reads it."""
    backend_settings: Any = dataclasses.field(default=None, compare=False)
    """That block parsed once, with its defaults, into the backend's settings type
    (`Backend.parse_settings`); None for a backend without one."""
    temperature: float | None = None
    prompt_prefix: str = ""
    prompt_overflow: str | None = None
    """A prompt longer than the context allows: None or ``refuse`` fails the run, ``truncate``
    keeps its start (energybench.run.backends.pytorch)."""
    quantization: dict | None = None
    """Weight quantization as the model loads (``method``, ``weights``;
    energybench.run.quantization); None: the checkpoint's weights as they are."""
    reasoning_state: str | None = None
    priority: int | None = None
    protocol: str | None = None
    aes_reasoning: str | None = None
    gpus_held: int | None = dataclasses.field(default=None, compare=False)
    """Not a setting: how many GPUs the run's job holds (its launch block), which
    ``device: auto`` goes by; None for a run started by hand."""

    def trials_on(self, device: str) -> int:
        """Trials to run: as configured, else 3 on a GPU and 1 on the CPU."""
        if self.trials is not None:
            return self.trials
        return 3 if device == "cuda" else 1

    @property
    def runs_each_prompt_once(self) -> bool:
        """AI Energy Score's protocol measures each prompt once (its figures are over its ten
        prompts); ours repeats a short generation until its window is long enough for the
        meters."""
        return self.protocol == "aes"

    @property
    def effective_min_new_tokens(self) -> int:
        """Fixed output length unless reasoning is on (then the model decides when to stop)."""
        if self.min_new_tokens is not None:
            return self.min_new_tokens
        return 0 if self.reasoning else self.max_new_tokens

    @property
    def reasoning_note(self) -> str | None:
        """Why the run's reasoning differs from the model list's reasoning state, if it does
        (AI Energy Score's runner decides reasoning otherwise than some rows state it)."""
        if not self.reasoning_state or self.aes_reasoning is None:
            return None
        stated = self.reasoning_state.strip().lower().startswith("on")
        if stated == self.reasoning:
            return None
        return (
            f"the model list states reasoning {self.reasoning_state!r}; this run has "
            f"reasoning {'on' if self.reasoning else 'off'}, as AI Energy Score's runner "
            f"runs the row (aes_reasoning: {self.aes_reasoning}; docs/aes.md)"
        )

    @classmethod
    def validated(cls, data: dict) -> RunConfig:
        """Check a run config that did not come from the workflow (written by hand, or
        changed by overrides) as the workflow checks its own, then parse it."""
        settings = {k: v for k, v in data.items() if k not in ("model", "measurement")}
        check_document(settings, package_schema("model_settings.schema.json"), "run config")
        if "measurement" in data:  # one left out is named with the other missing fields
            check_document(
                data["measurement"],
                package_schema("measurement.schema.json"),
                "run config field 'measurement'",
            )
        cfg = cls.from_dict(data)
        problems = contradictions(with_planned_gpus(data, bool(discover_devices().devices)))
        if problems:
            raise ConfigError("run config: " + "; ".join(problems))
        return cfg

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Parse a run config that was validated when the workflow was parsed (against the
        schema generated from energybench.run.model_settings, where a model's entry may leave
        out any field): here a field every run config has (`REQUIRED_SETTINGS`) missing
        altogether is an error, and the measurement block is read by its model."""
        settings = dict(data)
        model = settings.pop("model", None)
        measurement = settings.pop("measurement", None)
        absent = sorted(name for name in REQUIRED_SETTINGS if data.get(name) is None) + [
            name for name in ("model", "measurement") if data.get(name) is None
        ]
        if absent:
            raise ConfigError(f"run config lacks required fields: {', '.join(absent)}")
        try:
            measurement = Measurement.model_validate(measurement)
        except ValidationError as exc:
            raise ConfigError(
                "run config field 'measurement': "
                + "; ".join(
                    f"{'.'.join(map(str, error['loc'])) or '(entry)'}: {error['msg']}"
                    for error in exc.errors(include_url=False)
                )
            ) from None
        try:
            backend = backend_class(settings["backend"])
        except ValueError as exc:
            raise ConfigError(f"run config field 'backend': {exc}") from None
        for name in ISOLATION_FIELDS:
            settings.pop(name, None)
        settings["model_class"] = settings.pop("class")
        return cls(
            model=model,
            measurement=measurement,
            isolation=Isolation.from_run_config(data),
            backend_block=settings.pop(settings["backend"], None),
            task_block=settings.pop(settings["task"], None),
            backend_settings=backend.parse_settings(data),
            **settings,
        )

    def to_dict(self) -> dict:
        """The run config as a plain dict in canonical form (energybench.run.settings.canonical)."""
        # Field by field, not dataclasses.asdict: canonical() copies the values anyway, and
        # asdict's deep copy was a fifth of planning's own time at 1,000 models.
        data = _fields(self, skip=("backend_settings", "gpus_held"))
        # vars(): the fields as stored (iterating a model costs more, at every plan)
        data["measurement"] = vars(self.measurement).copy()
        data["isolation"] = vars(self.isolation).copy()
        data["class"] = data.pop("model_class")
        data[self.backend] = data.pop("backend_block")
        data[self.task] = data.pop("task_block")
        data.update(data.pop("isolation"))
        for optional in (
            "tiny",
            "image",
            "cpus",
            "memory",
            self.backend,
            self.task,
            "timeout_s",
            *UNSET_WHEN_EMPTY,
        ):
            if data[optional] in (None, ""):
                del data[optional]
        return canonical(data)

    def digest(self) -> str:
        """A stable hash of the resolved config, recorded in the report's provenance."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --- Hydra-style overrides, as the AI Energy Score runner passes them -------------------------

OVERRIDE_ALIASES = {
    "backend.model": "id",
    "backend.device": "device",
    "backend.dtype": "dtype",
    "scenario.dataset_name": "dataset",
    "scenario.text_column_name": "dataset_column",
    "scenario.dataset_split": "dataset_split",
    "scenario.reasoning": "reasoning",
    "scenario.num_samples": "num_prompts",
    "scenario.generate_kwargs.max_new_tokens": "max_new_tokens",
    "scenario.generate_kwargs.min_new_tokens": "min_new_tokens",
    "scenario.input_shapes.batch_size": "batch_size",
}
REASONING_PARAM_PREFIX = "scenario.reasoning_params."


def apply_overrides(config: dict, overrides: list[str]) -> dict:
    """Apply ``key=value`` overrides (values parsed as YAML, as Hydra does) to a run config."""
    result = json.loads(json.dumps(config))
    fields = set(SETTINGS)
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {override!r} is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if key.startswith(REASONING_PARAM_PREFIX):
            result.setdefault("reasoning_params", {})[key[len(REASONING_PARAM_PREFIX) :]] = value
        elif key in OVERRIDE_ALIASES:
            result[OVERRIDE_ALIASES[key]] = value
        elif key in fields:
            result[key] = value
        else:
            known = sorted([*OVERRIDE_ALIASES, REASONING_PARAM_PREFIX + "<name>", *fields])
            raise ConfigError(f"unknown override key {key!r}; known keys: {', '.join(known)}")
    return result
