"""The benchmark report: one JSON document per model run, checked against its schema and
written atomically (a reader never sees half a file)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import fastjsonschema
import jsonschema

from energybench.run import report_keys
from energybench.run.energy.trials import mean_over_trials
from energybench.run.energy.units import per_queries_wh
from energybench.run.files import write_atomic
from energybench.run.sections import (
    CheckResult,
    ComponentFigures,
    EnergySection,
    Idle,
    Latency,
    Load,
    Memory,
    Metrics,
    Phases,
    Provenance,
    SteadyState,
    Summary,
    TrialRecord,
    decode,
    type_hints,
    encode,
)

SCHEMA_VERSION = "1.0"


def report_schema() -> dict:
    return json.loads(resources.files("energybench.run.schemas").joinpath("report.schema.json")
                      .read_text())


@functools.cache
def _report_validator() -> jsonschema.Draft202012Validator:
    """Built once: `jsonschema.validate` checks the schema itself on every call, which took 95 %
    of each report's validation (0.15 s a report; 9.5 s of tables for 100 reports)."""
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@functools.cache
def _compiled_report_check():
    """The schema compiled to Python once (fastjsonschema): 0.04 ms a report against
    jsonschema's 0.8 ms, most of that resolving the schema's `$ref`s on every report."""
    return fastjsonschema.compile(report_schema())


def validate_report(report: dict) -> None:
    """Raise jsonschema.ValidationError when ``report`` does not follow the schema (the most
    relevant error, as `jsonschema.validate` raises). The compiled check decides; jsonschema,
    the reference, runs only on a report it refuses, to name the error (and overrules it)."""
    try:
        _compiled_report_check()(report)
    except fastjsonschema.JsonSchemaException:
        error = jsonschema.exceptions.best_match(_report_validator().iter_errors(report))
        if error is not None:
            raise error from None


def write_report(path: str | Path, report: dict) -> Path:
    """Validate and write a report, as strict JSON, with AI Energy Score's keys added
    (energybench.run.report_keys)."""
    report = report_keys.with_aes_energy_keys(report)
    validate_report(report)
    return write_atomic(path, report_keys.encode(report))


class UnreadableReport(ValueError):
    """A report file that cannot be read, is not JSON or not a JSON object; the message names
    the file, ``reason`` says why."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"report {path}: {reason}")


def read_report(path: str | Path) -> dict:
    """A report as written by write_report, its unknown figures ``None`` again; a file that is
    not one raises :class:`UnreadableReport` naming it."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UnreadableReport(path, f"unreadable: {exc.strerror}") from None
    try:
        return report_keys.decode(text)
    except ValueError as exc:
        raise UnreadableReport(path, str(exc)) from None


COMPONENTS = ("gpu", "cpu", "ram")


def unknown_component(reason: str) -> ComponentFigures:
    """A component (or total) whose energy is not known, with the reason: never a zero."""
    return ComponentFigures.of(gross_joules=None, idle_joules=None, net_joules=None, source=None,
                               estimated=False, reason=reason, devices=[], notes=[])


# --- the report as a typed object ---------------------------------------------------------

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class RunError:
    """Why a run failed: the exception's type, the one paragraph a user reads and, for a run
    that could not be launched or was stopped, the isolation layer's cause (timeout, ...)."""

    type: str
    message: str
    cause: str | None = None

    @classmethod
    def of(cls, error: BaseException | str) -> RunError:
        if isinstance(error, BaseException):
            return cls(type(error).__name__, str(error), getattr(error, "cause", None) or None)
        return cls("RunFailed", error)

    def to_dict(self) -> dict:
        block = {"type": self.type, "message": self.message}
        return block | ({"cause": self.cause} if self.cause else {})

    @classmethod
    def from_dict(cls, data: dict) -> RunError:
        return cls(data["type"], data["message"], data.get("cause"))


@dataclass(frozen=True)
class Report:
    """One model's run, built once (energybench.run.report_builder.completed_report, or
    ``Report.failed``) and written once. Its typed sections (energybench.run.sections) are
    built by report_builder from the energy arithmetic, which computes every figure; the figures a reader derives
    from two sections (per 1,000 queries and per query of each component) are computed here,
    once, by the same arithmetic. report.schema.json is tested against ``to_dict``."""

    model: str
    status: str
    error: RunError | None
    config: dict
    summary: Summary
    energy: EnergySection
    metrics: Metrics
    checks: list[CheckResult]
    trials: list[TrialRecord]
    phases: Phases | None
    steady_state: SteadyState | None
    latency: Latency | None
    idle: Idle | None
    load: Load | None
    memory: Memory | None
    timeline_file: str | None
    provenance: Provenance
    schema_version: str = SCHEMA_VERSION
    note: str | None = field(default=None, compare=False, metadata={"in_file": False})
    """Not in the file: why the tables and the site show this report (an earlier attempt in
    place of a newer one that failed; energybench.publish.paper.stored)."""
    @functools.cached_property
    def wh_per_1000_queries(self) -> dict[str, float | None]:
        """Gross energy per 1,000 successful queries, Wh, of each component and of the total."""
        return self._per_queries(1000)

    @functools.cached_property
    def wh_per_query(self) -> dict[str, float | None]:
        """Gross energy per successful query, Wh, of each component and of the total."""
        return self._per_queries(1)

    def _per_queries(self, queries: int) -> dict[str, float | None]:
        """Each trial's gross energy over its own successful queries, mean over the trials (as
        the metrics are; trials of a served model may count different successes). Derived on
        first use: most readers of a report never ask."""
        # A document read without validation (the campaign's summary) may lack its sections.
        energy, summary = self.energy or EnergySection(), self.summary or Summary()
        responses = summary.successful_prompts or 0
        counts = [trial.successful_prompts for trial in self.trials or []]

        def per_queries(block) -> float | None:
            values = block.gross.values
            if not counts or None in counts or values is None or len(values) != len(counts):
                # A report without per-trial counts: the first trial's (the summary's).
                return per_queries_wh(block.gross_joules, responses, queries)
            return mean_over_trials([None if joules is None else per_queries_wh(
                joules, n, queries) for joules, n in zip(values, counts)])

        return {name: per_queries(block)
                for name, block in {**energy.components, "total": energy.total}.items()}

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    @property
    def error_text(self) -> str | None:
        """``type: message`` of a failed run's error; ``None`` when there is none."""
        return None if self.error is None else f"{self.error.type}: {self.error.message}"

    @property
    def failed_checks(self) -> list[str]:
        """The names of the failed checks, each once (a check may fail in several trials)."""
        return list(dict.fromkeys(c.name for c in self.checks if c.passed is False))

    @classmethod
    def failed(cls, model: str, config: dict, error: BaseException | str, provenance: dict,
               total_prompts: int | None = None) -> Report:
        """The report of a run that did not complete: every figure null with the error as
        its reason (never a zero), the error recorded."""
        run_error = RunError.of(error)
        # An error raised deep inside a run does not know its model: name it.
        if f"model {model!r}" not in run_error.message and f"model {model}" not in run_error.message:
            run_error = replace(run_error, message=f"model {model!r}: {run_error.message}")
        reason = f"run failed: {run_error.message}"
        prompts = total_prompts if total_prompts is not None else config.get("num_prompts") or 0
        return cls(
            model=model,
            status=FAILED,
            error=run_error,
            config=config,
            summary=Summary.of(
                total_prompts=prompts, successful_prompts=0, failed_prompts=prompts,
                total_duration_seconds=None, avg_latency_seconds=None,
                avg_time_to_first_token=None, total_tokens=None, total_prompt_tokens=None,
                total_completion_tokens=None, throughput_tokens_per_second=None,
            ),
            energy=EnergySection.of(
                **{f"{c}_energy_{u}": None for c in (*COMPONENTS, "total") for u in ("wh", "kwh")},
                basis="none: the run failed",
                components={c: unknown_component(reason) for c in COMPONENTS},
                total=unknown_component(reason),
            ),
            metrics=Metrics.of(
                joules_per_token=None, net_joules_per_token=None, joules_per_response=None,
                wh_per_1000_queries=None, total_wh_per_1000_queries=None,
                tokens_per_joule=None, co2_emissions_g=None,
                # unknown when the config that failed did not get as far as naming it
                carbon_intensity_g_per_kwh=(config.get("measurement") or {})
                .get("carbon_intensity_g_per_kwh"),
            ),
            checks=[], trials=[], phases=None, steady_state=None, latency=None,
            idle=None, load=None, memory=None, timeline_file=None,
            provenance=Provenance.from_dict(provenance),
        )

    def to_dict(self) -> dict:
        """The JSON document (benchmark_report.json), in its documented key order."""
        data = {key: encode(getattr(self, key)) for key in REPORT_KEYS}
        data["error"] = self.error.to_dict() if self.error else None
        return data

    @classmethod
    def read(cls, path: str | Path) -> Report:
        """The report stored at ``path`` (not validated: energybench.publish.paper.stored reads
        reports for the tables); a file that is not one raises :class:`UnreadableReport`."""
        return cls.from_dict(read_report(path))

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        """The report a JSON document holds (as ``read_report`` returns it), every section
        typed; ``to_dict`` gives the document back unchanged."""
        unknown = set(data) - set(REPORT_KEYS)
        if unknown:
            raise ValueError(f"not fields of a report: {', '.join(sorted(unknown))}")
        hints = type_hints(cls)
        values = {key: decode(hints[key], data.get(key)) for key in REPORT_KEYS}
        values["error"] = RunError.from_dict(data["error"]) if data.get("error") else None
        return cls(**values)


REPORT_NAME = "benchmark_report.json"
REPORT_KEYS = ("schema_version", "model", "status", "error", "config", "summary", "energy",
               "metrics", "checks", "trials", "phases", "steady_state", "latency", "idle",
               "load", "memory", "timeline_file", "provenance")
