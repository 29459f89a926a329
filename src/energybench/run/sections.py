"""The report's sections as typed objects: what the tables, figures, AES's files and the site
read, by attribute.

Each section is built from its JSON form by ``from_dict`` and written back by ``to_dict``,
unchanged: keys a section does not name (AES's energy keys, a backend's own summary figures,
a meter's detail) are kept in ``extra``, and the keys of a section read from a file come back
in their order, so ``to_dict(from_dict(x)) == x`` for every report the schema accepts. A key
a variant of a section lacks (an uncounted component has no ``trial_statistics``) reads as
``None`` and is not written back.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any


@functools.cache
def type_hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(hint, value):
    """``value`` (JSON) as the type ``hint`` names: sections, and lists and dicts of them."""
    return None if value is None else _decoder(hint)(value)


def _as_is(value):
    return value


@functools.cache
def _decoder(hint):
    """How to decode a value of type ``hint``, worked out once per type (reading 1,000
    reports decodes each field 1,000 times)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decoder(inner[0]) if len(inner) == 1 else _as_is
    if _is_section(hint):
        return hint.from_dict
    if origin is list and args and _is_section(args[0]):
        return lambda value: [args[0].from_dict(v) for v in value]
    if origin is dict and len(args) == 2 and _is_section(args[1]):
        return lambda value: {k: args[1].from_dict(v) for k, v in value.items()}
    return _as_is


def _is_section(hint) -> bool:
    return isinstance(hint, type) and issubclass(hint, Section)


def encode(value):
    """The JSON form of a section, or of lists and dicts holding sections."""
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


@functools.cache
def _field_decoders(cls) -> dict[str, Any]:
    """The decoder of each of the section's own keys."""
    hints = type_hints(cls)
    return {name: _decoder(hints[name]) for name in _json_fields(cls)}


@functools.cache
def _left_out(cls) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    """What a section's own keys hold when a document leaves them out: (their defaults,
    (key, factory) of those made fresh for each section). Every field of a section has a
    default and is set by ``__init__`` (no ``init=False``), and no section has a
    ``__post_init__``: ``from_dict`` builds sections without ``__init__`` (tests/report
    checks every section, at any depth of subclassing)."""
    defaults, factories = {}, []
    for f in fields(cls):
        if f.name not in _field_decoders(cls):
            continue
        if f.default_factory is not MISSING:
            factories.append((f.name, f.default_factory))
        else:
            defaults[f.name] = f.default
    return defaults, tuple(factories)


@functools.cache
def _json_fields(cls) -> tuple[str, ...]:
    """The section's own keys, in their documented order (not ``extra`` or ``keys``)."""
    return tuple(f.name for f in fields(cls) if f.name not in ("extra", "keys"))


@dataclass(frozen=True, kw_only=True)
class Section:
    extra: dict = field(default_factory=dict, repr=False)  # keys this type does not name
    keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)  # as read

    @classmethod
    def of(cls, **values):
        """The section of ``values``, given typed and in their documented order (how
        energybench.run.report_builder builds one): keys this type does not name, in their JSON form, go
        to ``extra``, and keys left out are not written, as ``from_dict`` would read them."""
        names = _field_decoders(cls)
        return cls(**{key: value for key, value in values.items() if key in names},
                   extra={key: encode(value) for key, value in values.items()
                          if key not in names},
                   keys=tuple(values))

    @classmethod
    def from_dict(cls, data: dict):
        """The section ``data`` holds. Built without the dataclass's ``__init__``, which
        sets each field through ``object.__setattr__`` (frozen) and took half the time of
        typing a report (docs/PERFORMANCE.md, section 4); the fields get what ``__init__``
        would give them."""
        decoders = _field_decoders(cls)
        defaults, factories = _left_out(cls)
        values, extra = dict(defaults), {}
        for key, value in data.items():
            decoder = decoders.get(key)
            if decoder is None:
                extra[key] = value
            elif value is None or decoder is _as_is:
                values[key] = value
            else:
                values[key] = decoder(value)
        for key, factory in factories:
            if key not in values:
                values[key] = factory()
        values["extra"], values["keys"] = extra, tuple(data)
        section = object.__new__(cls)
        section.__dict__.update(values)
        return section

    def to_dict(self) -> dict:
        names = _json_fields(type(self))
        order = self.keys if self.keys is not None else (*names, *self.extra)
        return {key: encode(getattr(self, key)) if key in names else self.extra[key]
                for key in order}


# --- energy -------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class TrialFigures(Section):
    """A figure over the trials: the per-trial values, their mean and interval, or why not."""

    values: list | None = None
    n_valid: int | None = None
    mean: float | None = None
    std: float | None = None
    cv: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence_level: float | None = None
    ci_method: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ComponentFigures(Section):
    """Gross, idle and net energy of one component (or of the counted ones in total), mean
    over the trials, where it came from, and why it is unknown when it is."""

    gross_joules: float | None = None
    idle_joules: float | None = None
    net_joules: float | None = None
    net_reason: str | None = None
    idle_power_watts: float | None = None
    source: str | None = None
    estimated: bool = False
    reason: str | None = None
    devices: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    components: list | None = None  # the total: the components it counts
    trial_statistics: dict[str, TrialFigures] | None = None  # "gross", "net"
    meter_detail: list | None = None

    @property
    def gross(self) -> TrialFigures:
        """The gross energy over the trials (empty where the component was not measured)."""
        return (self.trial_statistics or {}).get("gross") or TrialFigures()


@dataclass(frozen=True, kw_only=True)
class EnergySection(Section):
    """The energy of the measured window, per component and in total."""

    gpu_energy_wh: float | None = None
    gpu_energy_kwh: float | None = None
    cpu_energy_wh: float | None = None
    cpu_energy_kwh: float | None = None
    ram_energy_wh: float | None = None
    ram_energy_kwh: float | None = None
    total_energy_wh: float | None = None
    total_energy_kwh: float | None = None
    basis: str | None = None
    components: dict[str, ComponentFigures] = field(default_factory=dict)
    total: ComponentFigures = field(default_factory=ComponentFigures)
    methods: dict | None = None

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


@dataclass(frozen=True, kw_only=True)
class Metrics(Section):
    """The efficiency figures, each computed per trial and averaged (energybench.run.report_builder)."""

    joules_per_token: float | None = None
    net_joules_per_token: float | None = None
    joules_per_response: float | None = None
    wh_per_1000_queries: float | None = None  # GPU energy: AI Energy Score's ranking figure
    total_wh_per_1000_queries: float | None = None
    tokens_per_joule: float | None = None
    co2_emissions_g: float | None = None
    carbon_intensity_g_per_kwh: float | None = None
    # Image generation's own (energybench.run.tasks): absent from other tasks' reports.
    wh_per_1000_images: float | None = None  # GPU energy
    total_wh_per_1000_images: float | None = None
    joules_per_image: float | None = None
    basis: str | None = None
    interval_method: str | None = None
    trial_statistics: dict[str, TrialFigures] | None = None
    null_reasons: dict | None = None

    def statistics(self, figure: str) -> TrialFigures:
        """The figure over the trials, with its interval (empty where the report has none)."""
        return (self.trial_statistics or {}).get(figure) or TrialFigures()


# --- what the run did ---------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Summary(Section):
    """AI Energy Score's summary (counts of a trial, timings averaged over the trials), and
    the figures a backend adds (its served latencies, its completion-token throughput)."""

    total_prompts: int | None = None
    successful_prompts: int | None = None
    failed_prompts: int | None = None
    total_duration_seconds: float | None = None
    avg_latency_seconds: float | None = None
    avg_time_to_first_token: float | None = None
    total_tokens: int | None = None
    total_prompt_tokens: int | None = None
    total_completion_tokens: int | None = None
    throughput_tokens_per_second: float | None = None
    avg_served_latency_seconds: float | None = None
    avg_served_time_to_first_token: float | None = None
    completion_tokens_per_second: float | None = None
    # Image generation's own (energybench.run.tasks): absent from other tasks' reports.
    images_generated: int | None = None
    images_per_second: float | None = None
    avg_seconds_per_image: float | None = None


@dataclass(frozen=True, kw_only=True)
class CheckResult(Section):
    """One self-check; ``passed`` is None where it could not be made."""

    name: str = ""
    value: Any = None
    limit: Any = None
    passed: bool | None = None
    detail: str | None = None
    severity: str | None = None
    trial: int | None = None
    window: str | None = None


@dataclass(frozen=True, kw_only=True)
class WindowEnergy(Section):
    """Gross and net joules of one component over one window, or why they are unknown."""

    gross_joules: float | None = None
    net_joules: float | None = None
    source: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class TrialRecord(Section):
    """One trial: its window on the power timeline's clock, its tokens and its energy."""

    index: int = 0
    start_s: float | None = None
    end_s: float | None = None
    duration_s: float | None = None
    completion_tokens: int | None = None
    successful_prompts: int | None = None
    total_tokens: int | None = None
    throughput_tokens_per_second: float | None = None
    completion_tokens_per_second: float | None = None
    energy: dict[str, WindowEnergy] = field(default_factory=dict)
    cooldown: dict | None = None
    failure: str | None = None


@dataclass(frozen=True, kw_only=True)
class PhaseFigures(Section):
    """Prefill, full generation and decode (= generate - prefill) of one component."""

    prefill: float | None = None
    generate: float | None = None
    decode: float | None = None
    unit: str | None = None
    resolution: float | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class PhaseTrial(Section):
    """One trial's prefill/decode split per component (the components are its other keys)."""

    prefill_passes: int | None = None
    generate_passes: int | None = None

    @property
    def splits(self) -> dict[str, PhaseFigures]:
        return {name: PhaseFigures.from_dict(part) for name, part in self.extra.items()
                if isinstance(part, dict)}


@dataclass(frozen=True, kw_only=True)
class PhaseMean(Section):
    prefill: TrialFigures = field(default_factory=TrialFigures)
    decode: TrialFigures = field(default_factory=TrialFigures)
    invalid_reasons: list = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Phases(Section):
    definition: str | None = None
    trials: list[PhaseTrial] = field(default_factory=list)
    mean: dict[str, PhaseMean] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SteadyTrial(Section):
    index: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    duration_s: float | None = None
    output_tokens: int | None = None
    reason: str | None = None
    completion_tokens_per_second: float | None = None
    energy: dict[str, WindowEnergy] | None = None
    total_gross_joules: float | None = None
    joules_per_token: float | None = None


@dataclass(frozen=True, kw_only=True)
class SteadyState(Section):
    definition: str | None = None
    trials: list[SteadyTrial] = field(default_factory=list)
    energy: EnergySection | None = None
    reason: str | None = None
    joules_per_token: TrialFigures | None = None


@dataclass(frozen=True, kw_only=True)
class LatencyStatistics(Section):
    count: int | None = None
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    p99: float | None = None


LATENCY_METRICS = ("ttft_s", "itl_s", "tpot_s", "e2e_latency_s")


@dataclass(frozen=True, kw_only=True)
class Latency(Section):
    """Per-request latencies of a served model (null where a metric had no sample)."""

    definition: str | None = None
    ttft_s: LatencyStatistics | None = None
    itl_s: LatencyStatistics | None = None
    tpot_s: LatencyStatistics | None = None
    e2e_latency_s: LatencyStatistics | None = None
    requests_file: str | None = None
    trials: list = field(default_factory=list)

    def metric(self, name: str) -> LatencyStatistics | None:
        return getattr(self, name)


@dataclass(frozen=True, kw_only=True)
class IdleComponent(Section):
    watts: float | None = None


@dataclass(frozen=True, kw_only=True)
class Idle(Section):
    components: dict[str, IdleComponent] = field(default_factory=dict)

    def watts(self, component: str) -> float | None:
        power = self.components.get(component)
        return power.watts if power else None


@dataclass(frozen=True, kw_only=True)
class Load(Section):
    """Loading the model, from the run's process start to the model ready: its time, and the
    energy of its metered part (from the meters' opening on), apart from inference's."""

    definition: str | None = None
    start_s: float | None = None  # the metered window, on the power timeline's clock
    end_s: float | None = None
    duration_s: float | None = None  # process start to model ready
    metered_s: float | None = None  # meters open to model ready: the energy's window
    before_meters_s: float | None = None  # process start to meters open (interpreter, imports)
    reason: str | None = None  # why duration_s is unknown
    components: dict[str, ComponentFigures] = field(default_factory=dict)
    total: ComponentFigures = field(default_factory=ComponentFigures)


@dataclass(frozen=True, kw_only=True)
class Memory(Section):
    """Peak memory of the run, in bytes, each figure ``None`` with its ``*_reason`` where it
    could not be read: GPU memory in use per device (NVML, sampled with the power timeline;
    the whole device's, other processes' included), the framework's own peaks of the run's
    device (allocated by tensors, and reserved by its caching allocator), and the host memory
    of the run (``host_source`` says which: the resident set of its process tree, sampled, or
    its container's cgroup peak)."""

    definition: str | None = None
    gpu_used_bytes: dict | None = None
    gpu_reason: str | None = None
    framework_allocated_bytes: int | None = None
    framework_reserved_bytes: int | None = None
    framework_reason: str | None = None
    host_bytes: int | None = None
    host_source: str | None = None
    host_reason: str | None = None

    @property
    def gpu_used_total_bytes(self) -> int | None:
        """The devices' peaks summed (at most what they held at once); ``None`` when any is
        unknown."""
        peaks = list((self.gpu_used_bytes or {}).values())
        return None if not peaks or None in peaks else sum(peaks)


@dataclass(frozen=True, kw_only=True)
class Provenance(Section):
    """Where and how the run ran (the keys the readers use are named; the rest is kept)."""

    energybench_version: str | None = None
    code_version: str | None = None
    config_hash: str | None = None
    runtime: dict | None = None
    hardware: dict | None = None
    meters: dict | None = None
    started_at: str | None = None
    finished_at: str | None = None

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
