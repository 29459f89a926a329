"""The report's sections as typed objects (pydantic models): what the tables, figures, AES's
files and the site read, by attribute, and the one declaration of what a report may hold.

The models validate (frozen, strict types: a count is an integer, a figure a number or null
where the report allows null) and are the source of ``schemas/report.schema.json``, which is
generated from them (``python -m energybench.run.json_schemas``). Each section keeps the keys it
does not name (AES's energy keys, a backend's own summary figures, a meter's detail) in
``extra``, in the order read, and writes back only the keys it was given: ``to_dict(from_dict(x))
== x`` for every report the models accept, key order included when the document lists its
named keys in the declared order (every report energybench writes does). A key a variant of a
section lacks (an uncounted component has no ``trial_statistics``) reads as ``None``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetPydanticSchema,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import core_schema

Number = Annotated[
    int | float,
    GetPydanticSchema(
        lambda _type, _handler: core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                core_schema.float_schema(strict=True, allow_inf_nan=False),
            ],
            custom_error_type="number_type",
            custom_error_message="Input should be a finite number",
        )
    ),
    WithJsonSchema({"type": "number"}),
]
"""A figure: an integer stays an integer (a report read and written back is the same text),
NaN and infinity are no figures (strict JSON)."""
Count = Annotated[int, Field(ge=0)]


def _reason_with_null(figure: str, reason: str) -> dict:
    """The JSON Schema rule that a null ``figure`` comes with its ``reason``."""
    return {
        "if": {"properties": {figure: {"type": "null"}}, "required": [figure]},
        "then": {"properties": {reason: {"type": "string"}}, "required": [reason]},
    }


def _check_reasons(section: BaseModel, pairs: tuple[tuple[str, str], ...]) -> None:
    """A figure that is unknown says why: never a null without its reason."""
    for figure, reason in pairs:
        if getattr(section, figure) is None and not isinstance(getattr(section, reason), str):
            raise ValueError(f"{figure} is null, so {reason} must say why (a string)")


class Section(BaseModel):
    """A section of the report: frozen, validated, its unnamed keys kept."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    @classmethod
    def of(cls, **values):
        """The section of ``values`` (typed sections or their JSON form), in the key order
        given; keys left out are not written."""
        return cls.model_validate(values)

    @classmethod
    def from_dict(cls, data: dict):
        return cls.model_validate(data)

    def to_dict(self) -> dict:
        """The JSON form: the keys the section was given, its unnamed keys after them."""
        return self.model_dump(exclude_unset=True)

    @property
    def extra(self) -> dict[str, Any]:
        """The keys this type does not name, as read."""
        return self.__pydantic_extra__


# --- energy -------------------------------------------------------------------------------


class TrialFigures(Section):
    """A figure over the trials: the per-trial values, their mean and interval, or why not."""

    values: list[Number | None] | None = None
    n_valid: int | None = None
    mean: Number | None = None
    std: Number | None = None
    cv: Number | None = None
    ci_low: Number | None = None
    ci_high: Number | None = None
    confidence_level: Number | None = None
    ci_method: str | None = None
    reason: str | None = Field(None, description="Why the mean or its interval is unknown.")


Source = Literal["nvml", "nvml_power_integral", "rapl", "estimate"]


class ComponentFigures(Section):
    """Gross, idle and net energy of one component (or of the counted ones in total), mean
    over the trials, where it came from, and why it is unknown when it is."""

    model_config = ConfigDict(json_schema_extra=_reason_with_null("gross_joules", "reason"))

    gross_joules: Number | None = Field(description="Energy of the measured window, joules.")
    idle_joules: Number | None = None
    net_joules: Number | None = None
    net_reason: str | None = None
    idle_power_watts: Number | None = None
    source: Source | None = Field(description="The meter the figure came from.")
    estimated: bool = Field(description="Whether the figure is an estimate, not a reading.")
    reason: str | None = Field(description="Why the energy is unknown (required then).")
    devices: list[str] = Field(default_factory=list)
    notes: list = Field(default_factory=list)
    components: list | None = Field(None, description="The total: the components it counts.")
    trial_statistics: dict[str, TrialFigures] | None = Field(
        None, description='Over the trials: "gross", "net".'
    )
    meter_detail: list | None = None

    @model_validator(mode="after")
    def _null_says_why(self):
        _check_reasons(self, (("gross_joules", "reason"),))
        return self

    @property
    def gross(self) -> TrialFigures:
        """The gross energy over the trials (empty where the component was not measured)."""
        return (self.trial_statistics or {}).get("gross") or TrialFigures()


class Estimate(Section):
    model: Any
    assumes: Any


class Methods(Section):
    """How the figures were made (docs/energy.md): the trials' confidence interval, the
    estimate models in use and what they assume, how the idle baseline was taken."""

    interval: str
    estimates: dict[str, Estimate]
    idle_baseline: dict | None


COUNTED = ("gpu", "cpu", "ram")


class EnergySection(Section):
    """The energy of the measured window, per component and in total."""

    gpu_energy_wh: Number | None
    gpu_energy_kwh: Number | None
    cpu_energy_wh: Number | None
    cpu_energy_kwh: Number | None
    ram_energy_wh: Number | None
    ram_energy_kwh: Number | None
    total_energy_wh: Number | None
    total_energy_kwh: Number | None
    basis: str
    components: dict[str, ComponentFigures] = Field(
        description="gpu, cpu and ram, each (an uncounted one with why).",
        json_schema_extra={"required": list(COUNTED)},
    )
    total: ComponentFigures
    methods: Methods | None = None

    @model_validator(mode="after")
    def _every_component(self):
        missing = [name for name in COUNTED if name not in self.components]
        if missing:
            raise ValueError(f"components lacks {', '.join(missing)}")
        return self

    @property
    def gpu(self) -> ComponentFigures:
        return self.components["gpu"]

    @property
    def estimated(self) -> bool:
        """Whether any component's figure is an estimate."""
        return any(c.estimated for c in self.components.values())

    @property
    def missing(self) -> dict[str, str | None]:
        """The components whose energy is unknown, with why."""
        return {name: c.reason for name, c in self.components.items() if c.gross_joules is None}


class Metrics(Section):
    """The efficiency figures, each computed per trial and averaged (energybench.run.report_builder)."""

    joules_per_token: Number | None
    net_joules_per_token: Number | None
    joules_per_response: Number | None
    wh_per_1000_queries: Number | None = Field(
        description="GPU energy per 1,000 queries: AI Energy Score's ranking figure."
    )
    total_wh_per_1000_queries: Number | None
    tokens_per_joule: Number | None
    co2_emissions_g: Number | None
    carbon_intensity_g_per_kwh: Number | None
    # Image generation's own (energybench.run.tasks): absent from other tasks' reports.
    wh_per_1000_images: Number | None = Field(
        None, description="image_generation: GPU energy per 1,000 images."
    )
    total_wh_per_1000_images: Number | None = Field(
        None, description="image_generation: total energy per 1,000 images."
    )
    joules_per_image: Number | None = Field(
        None, description="image_generation: total energy per image."
    )
    basis: str | None = None
    interval_method: str | None = None
    trial_statistics: dict[str, TrialFigures] | None = None
    null_reasons: dict[str, str] | None = Field(None, description="Why each null figure is.")

    def statistics(self, figure: str) -> TrialFigures:
        """The figure over the trials, with its interval (empty where the report has none)."""
        return (self.trial_statistics or {}).get(figure) or TrialFigures()


# --- what the run did ---------------------------------------------------------------------


class Summary(Section):
    """AI Energy Score's summary (counts of a trial, timings averaged over the trials), and
    the figures a backend adds (its served latencies, its completion-token throughput)."""

    total_prompts: Count
    successful_prompts: Count
    failed_prompts: Count
    total_duration_seconds: Number | None
    avg_latency_seconds: Number | None
    avg_time_to_first_token: Number | None
    total_tokens: int | None
    total_prompt_tokens: int | None
    total_completion_tokens: int | None
    throughput_tokens_per_second: Number | None
    avg_served_latency_seconds: Number | None = None
    avg_served_time_to_first_token: Number | None = None
    completion_tokens_per_second: Number | None = None
    # Image generation's own (energybench.run.tasks): absent from other tasks' reports.
    images_generated: Count | None = Field(
        None,
        description=(
            "image_generation: images made in a trial's window (prompts x images_per_prompt x "
            "passes)."
        ),
    )
    images_per_second: Number | None = None
    avg_seconds_per_image: Number | None = None
    queries_per_second: Number | None = Field(
        None,
        description=("text_classification: texts classified per second over the measured window."),
    )


class CheckResult(Section):
    """One self-check; ``passed`` is None where it could not be made."""

    name: str
    value: Any
    limit: Any
    passed: bool | None = Field(description="null where the check could not be made.")
    detail: str | None = None
    severity: str | None = None
    trial: int | None = None
    window: str | None = None


class WindowEnergy(Section):
    """Gross and net joules of one component over one window, or why they are unknown."""

    gross_joules: Number | None = None
    net_joules: Number | None = None
    source: str | None = None
    reason: str | None = None


class TrialRecord(Section):
    """One trial: its window on the power timeline's clock, its tokens and its energy."""

    index: int = 0
    start_s: Number | None = None
    end_s: Number | None = None
    duration_s: Number | None = None
    completion_tokens: int | None = None
    successful_prompts: int | None = None
    total_tokens: int | None = None
    throughput_tokens_per_second: Number | None = None
    completion_tokens_per_second: Number | None = None
    energy: dict[str, WindowEnergy] = Field(default_factory=dict)
    cooldown: dict | None = None
    failure: str | None = None


class PhaseFigures(Section):
    """Prefill, full generation and decode (= generate - prefill) of one component."""

    prefill: Number | None = None
    generate: Number | None = None
    decode: Number | None = None
    unit: str | None = None
    resolution: Number | None = None
    reason: str | None = None


class PhaseTrial(Section):
    """One trial's prefill/decode split per component (the components are its other keys)."""

    prefill_passes: int | None = None
    generate_passes: int | None = None

    @property
    def splits(self) -> dict[str, PhaseFigures]:
        return {
            name: PhaseFigures.from_dict(part)
            for name, part in self.extra.items()
            if isinstance(part, dict)
        }


class PhaseMean(Section):
    prefill: TrialFigures = Field(default_factory=TrialFigures)
    decode: TrialFigures = Field(default_factory=TrialFigures)
    invalid_reasons: list = Field(default_factory=list)


class Phases(Section):
    definition: str | None = None
    trials: list[PhaseTrial] = Field(default_factory=list)
    mean: dict[str, PhaseMean] = Field(default_factory=dict)


class SteadyTrial(Section):
    index: int | None
    start_s: Number | None
    end_s: Number | None
    duration_s: Number | None
    # Fractional: a request's tokens are spread over its chunks, some inside the window.
    output_tokens: Number | None
    reason: str | None = Field(description="Why the trial had no steady-state window.")
    completion_tokens_per_second: Number | None = None
    energy: dict[str, WindowEnergy] | None
    total_gross_joules: Number | None
    joules_per_token: Number | None


class SteadyState(Section):
    """Serving backends (vllm): energy and tokens of the steady-state window of each trial;
    null for other backends. docs/vllm.md defines it."""

    definition: str
    trials: list[SteadyTrial]
    energy: EnergySection | None
    reason: str | None
    joules_per_token: TrialFigures


class LatencyStatistics(Section):
    count: int = Field(ge=1)
    mean: Number
    median: Number
    p90: Number
    p99: Number


LATENCY_METRICS = ("ttft_s", "itl_s", "tpot_s", "e2e_latency_s")


class Latency(Section):
    """Serving backends (vllm): per-request latency statistics (seconds) over the successful
    requests of all trials, and each trial's load figures; null for other backends (and each
    metric null where it had no sample)."""

    definition: str
    requests_file: str | None = None
    trials: list[dict]
    ttft_s: LatencyStatistics | None
    itl_s: LatencyStatistics | None
    tpot_s: LatencyStatistics | None
    e2e_latency_s: LatencyStatistics | None

    def metric(self, name: str) -> LatencyStatistics | None:
        return getattr(self, name)


class IdleComponent(Section):
    component: str | None = None
    watts: Number | None = None


class Idle(Section):
    """The idle baseline the net figures subtract (the meters' JSON form), and its window on
    the power timeline's clock (absent from reports from before it was recorded)."""

    duration_s: Number | None = None
    start_s: Number | None = None
    end_s: Number | None = None
    method: Any = None
    temperatures_c: Any = None
    components: dict[str, IdleComponent] = Field(default_factory=dict)

    def watts(self, component: str) -> float | None:
        power = self.components.get(component)
        return power.watts if power else None


class WarmUp(Section):
    """The unmeasured warm-up before the trials: its window on the power timeline's clock
    (absent from failed runs' reports and from reports from before it was recorded)."""

    start_s: Number
    end_s: Number


class Load(Section):
    """Loading the model, from the run's process start to the model ready: its time and the
    energy of its metered part, never part of the inference figures; null where the run
    measured no load (docs/energy.md)."""

    model_config = ConfigDict(json_schema_extra=_reason_with_null("duration_s", "reason"))

    definition: str
    start_s: Number = Field(description="The metered window, on the power timeline's clock.")
    end_s: Number
    duration_s: Number | None = Field(description="Process start to model ready.")
    metered_s: Number = Field(description="Meters open to model ready: the energy's window.")
    before_meters_s: Number | None = Field(
        description="Process start to meters open (interpreter, imports)."
    )
    reason: str | None = Field(description="Why duration_s is unknown.")
    components: dict[str, ComponentFigures]
    total: ComponentFigures

    @model_validator(mode="after")
    def _null_says_why(self):
        _check_reasons(self, (("duration_s", "reason"),))
        return self


Bytes = Annotated[int, Field(ge=0)]
MEMORY_REASONS = (
    ("gpu_used_bytes", "gpu_reason"),
    ("framework_allocated_bytes", "framework_reason"),
    ("host_bytes", "host_reason"),
)


class Memory(Section):
    """Peak memory of the run, in bytes, each figure null with its ``*_reason`` where it
    could not be read: GPU memory in use per device (NVML, sampled with the power timeline;
    the whole device's, other processes' included), the framework's own peaks of the run's
    device (allocated by tensors, and reserved by its caching allocator), and the host memory
    of the run (``host_source`` says which: the resident set of its process tree, sampled, or
    its container's cgroup peak)."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [_reason_with_null(figure, reason) for figure, reason in MEMORY_REASONS]
        }
    )

    definition: str
    gpu_used_bytes: dict[str, Bytes | None] | None
    gpu_reason: str | None
    framework_allocated_bytes: Bytes | None
    framework_reserved_bytes: Bytes | None
    framework_reason: str | None
    host_bytes: Bytes | None
    host_source: str | None
    host_reason: str | None

    @model_validator(mode="after")
    def _null_says_why(self):
        _check_reasons(self, MEMORY_REASONS)
        return self

    @property
    def gpu_used_total_bytes(self) -> int | None:
        """The devices' peaks summed (at most what they held at once); ``None`` when any is
        unknown."""
        peaks = list((self.gpu_used_bytes or {}).values())
        return None if not peaks or None in peaks else sum(peaks)


class Provenance(Section):
    """Where and how the run ran (the keys the readers use are named; the rest is kept)."""

    energybench_version: str | None
    code_version: str | None
    config_hash: str | None
    runtime: dict
    python: Any = None
    packages: Any
    hardware: dict | None
    scheduler: Any = None
    started_at: str | None
    finished_at: str | None
    backend: dict | None = None
    meters: dict | None = None

    @property
    def runtime_name(self) -> str | None:
        return (self.runtime or {}).get("name")

    @property
    def metered_gpus(self) -> list[str]:
        """The names of the GPUs the run was metered on."""
        gpu_meter = ((self.meters or {}).get("meters") or {}).get("gpu") or {}
        return [d["name"] for d in gpu_meter.get("devices") or [] if d.get("name")]

    @property
    def cpu_model(self) -> str | None:
        return (self.hardware or {}).get("cpu_model")
