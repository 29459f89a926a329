"""The benchmark report: one JSON document per model run, checked against its schema and
written atomically (a reader never sees half a file)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from energybench.run import report_keys
from energybench.run.energy.phases import PER_UNIT_FIGURES, phases_per_unit
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
    Section,
    SteadyState,
    Summary,
    TrialRecord,
    WarmUp,
)

SCHEMA_VERSION = "1.0"


def validate_report(report: dict) -> None:
    """Raise :class:`pydantic.ValidationError` when ``report`` is not one the report's models
    accept (the same rules as schemas/report.schema.json, generated from them)."""
    Report.model_validate(report)


def problem_of(error: ValidationError) -> str:
    """The first of a report's validation errors, as one line naming the field and, where it
    is a single value, the value found."""
    first = error.errors(include_url=False)[0]
    where = "/".join(str(part) for part in first["loc"]) or "(top level)"
    found = first.get("input")
    given = "" if isinstance(found, (dict, list)) else f" (found {found!r})"
    return f"field {where}: {first['msg']}{given}"


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
    return ComponentFigures.of(
        gross_joules=None,
        idle_joules=None,
        net_joules=None,
        source=None,
        estimated=False,
        reason=reason,
        devices=[],
        notes=[],
    )


# --- the report as a typed object ---------------------------------------------------------

SUCCEEDED = "succeeded"
FAILED = "failed"


class RunError(Section):
    """Why a run failed: the exception's type, the one paragraph a user reads and, for a run
    that could not be launched or was stopped, the isolation layer's cause (timeout, ...)."""

    type: str
    message: str
    cause: str | None = Field(
        None,
        description=(
            "Why the run could not be launched or was stopped (energybench.job.isolation.errors "
            "CAUSE_*), e.g. timeout, killed, image_missing."
        ),
    )

    @classmethod
    def of(cls, error: BaseException | str) -> RunError:
        if isinstance(error, BaseException):
            cause = getattr(error, "cause", None)
            return super().of(
                type=type(error).__name__, message=str(error), **({"cause": cause} if cause else {})
            )
        return super().of(type="RunFailed", message=error)


ModelKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$")]


class Report(BaseModel):
    """One model's run, built once (energybench.run.report_builder.completed_report, or
    ``Report.failed``) and written once. Its typed sections (energybench.run.sections) are
    built by report_builder from the energy arithmetic, which computes every figure; the
    figures a reader derives from two sections (per 1,000 queries and per query of each
    component) are computed here, once, by the same arithmetic, as are the prefill/decode
    split per query and per token. schemas/report.schema.json is generated from this model."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        title="energybench benchmark_report.json",
        json_schema_extra={
            "if": {"properties": {"status": {"const": "failed"}}},
            "then": {
                "properties": {"error": {"type": "object"}},
                "$comment": "a failed run says why",
            },
            "else": {"properties": {"error": {"type": "null"}}},
        },
    )

    schema_version: Literal["1.0"]
    model: ModelKey = Field(description="The model's key in the configuration.")
    status: Literal["succeeded", "failed"]
    error: RunError | None = Field(description="Why a failed run failed; null when it succeeded.")
    config: dict[str, Any] = Field(description="The resolved run config the run was given.")
    summary: Summary
    energy: EnergySection
    metrics: Metrics
    checks: list[CheckResult]
    trials: list[TrialRecord]
    phases: Phases | None = None
    steady_state: SteadyState | None = None
    latency: Latency | None = None
    idle: Idle | None = None
    warm_up: WarmUp | None = None
    load: Load | None = None
    memory: Memory | None = None
    timeline_file: str | None = None
    provenance: Provenance
    _note: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _failed_says_why(self):
        if (self.status == FAILED) != (self.error is not None):
            raise ValueError("a failed run has an error, a succeeded one none")
        return self

    @property
    def note(self) -> str | None:
        """Not in the file: why the tables and the site show this report (an earlier attempt
        in place of a newer one that failed; energybench.publish.paper.stored)."""
        return self._note

    def with_note(self, note: str | None) -> Report:
        if note is None:
            return self
        shown = self.model_copy()
        shown._note = note
        return shown

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
        responses = self.summary.successful_prompts
        counts = [trial.successful_prompts for trial in self.trials]

        def per_queries(block) -> float | None:
            values = block.gross.values
            if not counts or None in counts or values is None or len(values) != len(counts):
                # A report without per-trial counts: the first trial's (the summary's).
                return per_queries_wh(block.gross_joules, responses, queries)
            return mean_over_trials(
                [
                    None if joules is None else per_queries_wh(joules, n, queries)
                    for joules, n in zip(values, counts)
                ]
            )

        return {
            name: per_queries(block)
            for name, block in {**self.energy.components, "total": self.energy.total}.items()
        }

    @functools.cached_property
    def phases_per_trial(self) -> list[dict[str, dict[str, float | None]]]:
        """Each trial's prefill/decode split per component (its values in the split's mean),
        per query and per token over that trial's own counts, or the summary's in a report
        without them (``energy.phases.phases_per_unit``); empty without a split."""
        if not self.phases:
            return []
        summary, records, splits = self.summary, self.trials, self.phases.trials
        means = {name: mean for name, mean in self.phases.mean.items() if name in COMPONENTS}

        def values(statistics) -> list:
            return statistics.values if statistics.values is not None else [statistics.mean]

        def value_at(statistics, position: int) -> float | None:
            known = values(statistics)
            return known[position] if position < len(known) else None

        count = max((len(values(mean.prefill)) for mean in means.values()), default=0)
        per_trial = []
        for position in range(count):
            record = records[position] if position < len(records) else TrialRecord()
            generated, total = record.completion_tokens, record.total_tokens
            counted = generated is not None and total is not None
            passes = splits[position].generate_passes if position < len(splits) else None
            per_trial.append(
                {
                    name: phases_per_unit(
                        value_at(mean.prefill, position),
                        value_at(mean.decode, position),
                        passes=passes or 1,
                        queries=record.successful_prompts
                        if record.successful_prompts is not None
                        else summary.successful_prompts,
                        prompt_tokens=total - generated if counted else summary.total_prompt_tokens,
                        generated_tokens=generated if counted else summary.total_completion_tokens,
                    )
                    for name, mean in means.items()
                }
            )
        return per_trial

    @functools.cached_property
    def phases_per_unit(self) -> dict[str, dict[str, float | None]]:
        """Per component of the split, its figures per query and per token, mean over the
        trials (``None`` where any trial's is unknown, as the split's own mean)."""
        per_trial = self.phases_per_trial
        names = dict.fromkeys(name for trial in per_trial for name in trial)
        return {
            name: {
                figure: mean_over_trials([trial.get(name, {}).get(figure) for trial in per_trial])
                for figure in PER_UNIT_FIGURES
            }
            for name in names
        }

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
    def failed(
        cls,
        model: str,
        config: dict,
        error: BaseException | str,
        provenance: dict,
        total_prompts: int | None = None,
    ) -> Report:
        """The report of a run that did not complete: every figure null with the error as
        its reason (never a zero), the error recorded."""
        run_error = RunError.of(error)
        # An error raised deep inside a run does not know its model: name it.
        if (
            f"model {model!r}" not in run_error.message
            and f"model {model}" not in run_error.message
        ):
            run_error = run_error.model_copy(
                update={"message": f"model {model!r}: {run_error.message}"}
            )
        reason = f"run failed: {run_error.message}"
        prompts = total_prompts if total_prompts is not None else config.get("num_prompts") or 0
        return cls(
            schema_version=SCHEMA_VERSION,
            model=model,
            status=FAILED,
            error=run_error,
            config=config,
            summary=Summary.of(
                total_prompts=prompts,
                successful_prompts=0,
                failed_prompts=prompts,
                total_duration_seconds=None,
                avg_latency_seconds=None,
                avg_time_to_first_token=None,
                total_tokens=None,
                total_prompt_tokens=None,
                total_completion_tokens=None,
                throughput_tokens_per_second=None,
            ),
            energy=EnergySection.of(
                **{f"{c}_energy_{u}": None for c in (*COMPONENTS, "total") for u in ("wh", "kwh")},
                basis="none: the run failed",
                components={c: unknown_component(reason) for c in COMPONENTS},
                total=unknown_component(reason),
            ),
            metrics=Metrics.of(
                joules_per_token=None,
                net_joules_per_token=None,
                joules_per_response=None,
                wh_per_1000_queries=None,
                total_wh_per_1000_queries=None,
                tokens_per_joule=None,
                co2_emissions_g=None,
                # unknown when the config that failed did not get as far as naming it
                carbon_intensity_g_per_kwh=(config.get("measurement") or {}).get(
                    "carbon_intensity_g_per_kwh"
                ),
            ),
            checks=[],
            trials=[],
            phases=None,
            steady_state=None,
            latency=None,
            idle=None,
            load=None,
            memory=None,
            timeline_file=None,
            provenance=Provenance.from_dict(provenance),
        )

    def to_dict(self) -> dict:
        """The JSON document (benchmark_report.json), in its documented key order."""
        return self.model_dump(exclude_unset=True)

    @classmethod
    def read(cls, path: str | Path) -> Report:
        """The report stored at ``path``; a file that is not one raises
        :class:`UnreadableReport` naming it and the field."""
        document = read_report(path)
        try:
            return cls.from_dict(document)
        except ValidationError as exc:
            raise UnreadableReport(
                path,
                f"does not follow the report schema (schema_version "
                f"{document.get('schema_version')!r}), "
                f"{problem_of(exc)}",
            ) from None

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        """The report a JSON document holds (as ``read_report`` returns it), every section
        typed and validated; ``to_dict`` gives the document back unchanged."""
        return cls.model_validate(data)


REPORT_NAME = "benchmark_report.json"
REPORT_KEYS = tuple(Report.model_fields)
