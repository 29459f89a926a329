import json
import os
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from energybench.run.report_keys import with_aes_energy_keys
from energybench.run.files import write_json_atomic
from energybench.run.report import Report, problem_of, read_report, validate_report, write_report
from energybench.run.report_builder import completed_report
from energybench.run.sections import ComponentFigures, Section, TrialFigures

PROVENANCE = {
    "energybench_version": "0",
    "code_version": None,
    "config_hash": None,
    "runtime": {"name": "process"},
    "packages": {},
    "hardware": {},
    "started_at": "t0",
    "finished_at": "t1",
}


def test_failed_report_is_valid_and_has_no_zero_energy(tmp_path):
    report = Report.failed(
        "m", {"num_prompts": 5}, RuntimeError("CUDA out of memory"), PROVENANCE
    ).to_dict()
    validate_report(report)
    assert report["status"] == "failed" and report["error"]["type"] == "RuntimeError"
    assert report["summary"]["failed_prompts"] == 5
    for component in report["energy"]["components"].values():
        assert component["gross_joules"] is None and "CUDA out of memory" in component["reason"]
    assert report["energy"]["total_energy_wh"] is None
    # a config that failed before naming its carbon intensity has none, not 0 g/kWh
    assert report["metrics"]["carbon_intensity_g_per_kwh"] is None
    write_report(tmp_path / "r.json", report)
    assert read_report(tmp_path / "r.json") == with_aes_energy_keys(report)


def test_schema_rejects_a_failed_run_without_its_error_and_a_succeeded_one_with_one():
    failed = Report.failed("m", {}, "boom", PROVENANCE).to_dict()
    with pytest.raises(ValidationError):
        validate_report(failed | {"error": None})
    with pytest.raises(ValidationError):
        validate_report(failed | {"status": "succeeded"})


def test_schema_rejects_a_null_figure_without_reason():
    report = Report.failed("m", {}, "boom", PROVENANCE).to_dict()
    report["energy"]["components"]["gpu"]["reason"] = None
    with pytest.raises(ValidationError):
        validate_report(report)


def test_atomic_write_keeps_the_old_file_when_serialisation_fails(tmp_path):
    path = tmp_path / "report.json"
    write_json_atomic(path, {"ok": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"bad": float("nan")})  # NaN is not JSON
    assert json.loads(path.read_text()) == {"ok": 1}
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "text, why",
    [
        ("[]", "not a JSON object but an array"),
        ('"summary"', "not a JSON object but a string"),
        ("{truncated", "not JSON: "),
    ],
)
def test_reading_a_file_that_is_no_report_names_the_file_and_why(tmp_path, text, why):
    path = tmp_path / "benchmark_report.json"
    path.write_text(text)
    with pytest.raises(ValueError) as raised:  # not AttributeError from looking up a section
        read_report(path)
    assert str(path) in str(raised.value) and why in str(raised.value)


# --- the report as a typed object --------------------------------------------------------

from dataclasses import replace  # noqa: E402

from energybench.job.isolation import LaunchError  # noqa: E402
from energybench.run.report import REPORT_KEYS, RunError  # noqa: E402
from energybench.run.json_schemas import report_schema  # noqa: E402
from energybench.run.sections import WarmUp  # noqa: E402
from energybench.run.backends import latencies, throughputs  # noqa: E402

WARM_UP = WarmUp.of(start_s=12.5, end_s=14.0)
from test_results import IDLE, trial as bare_trial  # noqa: E402

CONFIG = {"model": "m", "num_prompts": 4, "measurement": {"carbon_intensity_g_per_kwh": 400}}


def trial(index, gpu):
    """A trial with the summary a backend gives (counts, latencies, throughputs)."""
    base = bare_trial(index, gpu)
    return replace(
        base,
        summary={**base.summary, **latencies(1.0, 0.1, alone=True), **throughputs(140, 100, 2.0)},
    )


def image_report() -> Report:
    """A completed image-generation run: two trials of 4 prompts, 2 images each."""
    from energybench.run.backends.diffusion import image_summary

    trials = [
        replace(bare_trial(index, gpu), summary=image_summary([(1.0, 2), (1.0, 2)], 2, 2.0))
        for index, gpu in ((0, 300.0), (1, 310.0))
    ]
    return completed_report(
        {**CONFIG, "task": "image_generation"},
        trials,
        IDLE,
        {},
        400.0,
        "power_timeline.csv",
        PROVENANCE,
    )


def test_image_generation_figures_divide_by_images_and_its_token_figures_say_why_null():
    metrics = image_report().metrics
    gpu_wh = (300.0 + 310.0) / 2 / 3600
    assert metrics.wh_per_1000_images == pytest.approx(1000 * gpu_wh / 8)
    assert metrics.wh_per_1000_queries == pytest.approx(1000 * gpu_wh / 4)  # AES's: per prompt
    assert metrics.joules_per_image * 8 == pytest.approx(metrics.joules_per_response * 4)
    assert metrics.joules_per_token is None and metrics.tokens_per_joule is None
    assert metrics.null_reasons["total.tokens_per_joule"].endswith("(the task generates no tokens)")


def test_the_typed_report_and_its_schema_name_the_same_fields():
    schema = report_schema()
    assert list(REPORT_KEYS) == list(schema["properties"])
    assert set(schema["required"]) < set(REPORT_KEYS)
    assert schema["additionalProperties"] is False


def test_a_completed_run_is_one_valid_report_that_survives_a_round_trip():
    report = completed_report(
        CONFIG,
        [trial(0, 300.0), trial(1, 310.0)],
        IDLE,
        {},
        400.0,
        "power_timeline.csv",
        PROVENANCE,
        warm_up=WARM_UP,
    )
    document = report.to_dict()
    validate_report(document)
    assert list(document) == list(REPORT_KEYS)
    assert report.succeeded and document["error"] is None
    # Derived figures are computed once, by the energy arithmetic, and stored.
    assert document["metrics"]["total_wh_per_1000_queries"] > 0
    assert Report.from_dict(json.loads(json.dumps(document))) == report


def test_a_report_from_before_the_warm_up_was_recorded_reads_back_without_one():
    document = completed_report(
        CONFIG, [trial(0, 300.0)], IDLE, {}, 400.0, None, PROVENANCE, warm_up=WARM_UP
    ).to_dict()
    older = {key: value for key, value in document.items() if key != "warm_up"}
    validate_report(older)
    report = Report.from_dict(older)
    assert report.warm_up is None and report.to_dict() == older
    assert Report.from_dict(document).warm_up.end_s == WARM_UP.end_s
    # Unknown is left out, not written null: a failed run, a run given no warm-up.
    assert "warm_up" not in Report.failed("m", CONFIG, "boom", PROVENANCE).to_dict()
    assert (
        "warm_up"
        not in completed_report(
            CONFIG, [trial(0, 300.0)], IDLE, {}, 400.0, None, PROVENANCE
        ).to_dict()
    )
    with pytest.raises(ValueError, match="warm_up"):  # a window has both its ends
        Report.from_dict({**document, "warm_up": {"start_s": 1.0}})


def test_phases_per_query_and_per_token_divide_each_pass_by_its_own_counts():
    once = bare_trial(0, 300.0, prefill_gpu=30.0)  # 4 queries, 40 prompt, 100 generated tokens
    once = replace(once, summary={**once.summary, **throughputs(140, 100, 2.0)})
    # Two generate passes: the window and its counts hold both, the split one pass.
    twice = replace(
        bare_trial(1, 620.0, prefill_gpu=30.0),
        summary={
            **once.summary,
            "total_prompts": 8,
            "successful_prompts": 8,
            "total_tokens": 280,
            "total_prompt_tokens": 80,
            "total_completion_tokens": 200,
        },
        extra={"generate_passes": 2},
    )
    report = completed_report(CONFIG, [once, twice], IDLE, {}, 400.0, None, PROVENANCE)
    assert [
        trial["gpu"]["decode_j_per_query"] for trial in report.phases_per_trial
    ] == pytest.approx([270.0 / 4, 280.0 / 4])
    gpu = report.phases_per_unit["gpu"]
    assert gpu["prefill_j_per_query"] == pytest.approx(30.0 / 4)
    assert gpu["decode_j_per_query"] == pytest.approx((270.0 + 280.0) / 2 / 4)
    assert gpu["prefill_j_per_prompt_token"] == pytest.approx(30.0 / 40)
    assert gpu["decode_j_per_generated_token"] == pytest.approx((2.7 + 2.8) / 2)
    # A trial with an invalid split leaves the mean unknown, never a mean of the others.
    assert report.phases_per_unit["cpu"]["decode_j_per_query"] is None


def test_a_run_with_too_many_failed_requests_is_failed_but_keeps_its_figures():
    broken = replace(trial(0, 300.0), failure="3 of 4 requests failed")
    report = completed_report(CONFIG, [broken], IDLE, {}, 400.0, None, PROVENANCE)
    assert report.status == "failed"
    assert report.error == RunError(type="TooManyFailedRequests", message="3 of 4 requests failed")
    assert report.energy.total.gross_joules > 0
    validate_report(report.to_dict())


def test_a_launch_error_keeps_its_cause_through_the_json():
    error = LaunchError(
        "model 'm': the run did not finish within 5 s", model_key="m", cause="timeout"
    )
    document = Report.failed("m", CONFIG, error, PROVENANCE).to_dict()
    validate_report(document)
    assert document["error"] == {
        "type": "LaunchError",
        "cause": "timeout",
        "message": "model 'm': the run did not finish within 5 s",
    }
    assert Report.from_dict(document).error.cause == "timeout"


def test_a_document_with_fields_no_report_has_is_refused():
    document = Report.failed("m", CONFIG, "boom", PROVENANCE).to_dict()
    with pytest.raises(ValidationError, match="colour"):
        Report.from_dict({**document, "colour": "red"})
    with pytest.raises(ValidationError, match="note"):  # a reader's note is not in the file
        Report.from_dict({**document, "note": "shown"})


def test_the_note_a_reader_adds_is_not_written():
    report = Report.failed("m", CONFIG, "boom", PROVENANCE)
    shown = report.with_note("an earlier attempt")
    assert shown.note == "an earlier attempt" and report.note is None
    assert shown.to_dict() == report.to_dict()


def test_a_report_that_does_not_follow_the_schema_reads_as_unreadable_naming_the_field(tmp_path):
    document = Report.failed("m", {}, RuntimeError("boom"), PROVENANCE).to_dict()
    path = tmp_path / "benchmark_report.json"
    path.write_text(json.dumps({**document, "status": "no such status"}))
    with pytest.raises(ValueError) as raised:
        Report.read(path)
    assert str(path) in str(raised.value) and "field status:" in str(raised.value)
    assert "'succeeded' or 'failed'" in str(raised.value)


def test_the_checked_in_schemas_are_the_ones_the_models_generate():
    from energybench.run import json_schemas

    assert json_schemas.stale() == [], "run: python -m energybench.run.json_schemas"


def test_a_stale_schema_is_named(tmp_path, monkeypatch, capsys):
    from energybench.run import json_schemas

    for name in json_schemas.SCHEMAS:
        (tmp_path / name).write_text((json_schemas.FOLDER / name).read_text())
    (tmp_path / "report.schema.json").write_text("{}\n")
    monkeypatch.setattr(json_schemas, "FOLDER", tmp_path)
    assert json_schemas.stale() == ["report.schema.json"]
    assert json_schemas.main(["--check"]) == 1
    assert "report.schema.json differs from the models" in capsys.readouterr().err
    assert json_schemas.main([]) == 0 and json_schemas.stale() == []


def fixture_documents() -> dict[str, dict]:
    """Every kind of stored report the tests hold: a real CPU run and the site's, varied
    into GPU, estimated, served and failed runs."""
    import paper_fixtures as fx

    data = Path(__file__).parents[1] / "data"
    return {
        "cpu": fx.BASE,
        "site": read_report(data / "site_report.json"),
        "gpu": fx.gpu_report("g", 2.0),
        "estimated": fx.gpu_report("e", 2.0, estimated=True),
        "served": fx.served("s", 3.0),
        "failed": fx.failed("f"),
        "classified": fx.classified("t", 1.0),
    }


@pytest.mark.parametrize(
    "kind", ["cpu", "site", "gpu", "estimated", "served", "failed", "classified"]
)
def test_every_stored_report_survives_the_typed_round_trip_unchanged(kind):
    document = fixture_documents()[kind]
    report = Report.from_dict(document)
    assert report.to_dict() == document
    # The same bytes on disk, key order included.
    assert json.dumps(report.to_dict()) == json.dumps(document)


def test_a_written_report_reads_back_typed_and_writes_the_same_file(tmp_path):
    built = completed_report(
        CONFIG,
        [trial(0, 300.0), trial(1, 310.0)],
        IDLE,
        {},
        400.0,
        "power_timeline.csv",
        PROVENANCE,
    )
    first = write_report(tmp_path / "a.json", built.to_dict()).read_text()
    stored = Report.from_dict(read_report(tmp_path / "a.json"))
    validate_report(stored.to_dict())
    assert write_report(tmp_path / "b.json", stored.to_dict()).read_text() == first
    # AES's energy keys, which the typed energy section does not name, are kept as read.
    assert "energy_wh" in stored.energy.extra


def served_trial(index, gpu, steady=True):
    """A served model's trial: a steady-state window (or why none), per-request latencies."""
    from test_results import window

    samples = {"ttft_s": [0.1, 0.2], "itl_s": [0.01], "tpot_s": [], "e2e_latency_s": [1.0]}
    return replace(
        trial(index, gpu),
        phase_windows={"steady_state": window("s", 1.0, gpu=gpu / 3)} if steady else {},
        extra={
            "steady_state": {
                "start_s": 0.5,
                "end_s": 1.5,
                "duration_s": 1.0,
                "output_tokens": 50,
                "batch": 8,
                "reason": None if steady else "never full",
            },
            "latency_samples": samples,
            "load": {"requests": 4},
            "requests_file": "requests.jsonl",
        },
    )


@pytest.mark.parametrize(
    "trials",
    [
        [
            replace(
                trial(i, gpu), phase_windows=bare_trial(i, gpu, prefill_gpu=100.0).phase_windows
            )
            for i, gpu in enumerate((300.0, 90.0))
        ],
        [served_trial(0, 300.0), served_trial(1, 310.0, steady=False)],
    ],
    ids=["phases", "served"],
)
def test_sections_built_typed_write_what_they_read_back(trials):
    """energybench.run.report_builder builds each section typed, with the keys it gives in their order:
    the report written is the one read back, key for key."""
    report = completed_report(CONFIG, trials, IDLE, {"ram": "not here"}, 400.0, None, PROVENANCE)
    assert isinstance(report.phases or report.steady_state, Section)
    document = report.to_dict()
    validate_report(document)
    again = Report.from_dict(json.loads(json.dumps(document)))
    assert again == report and json.dumps(again.to_dict()) == json.dumps(document)


def test_the_sections_are_typed_and_the_derived_figures_are_computed_once():
    report = completed_report(
        CONFIG,
        [trial(0, 300.0), trial(1, 310.0)],
        IDLE,
        {},
        400.0,
        "power_timeline.csv",
        PROVENANCE,
    )
    gpu = report.energy.components["gpu"]
    assert isinstance(gpu, ComponentFigures) and gpu is report.energy.gpu
    assert isinstance(report.metrics.statistics("joules_per_token"), TrialFigures)
    responses = report.summary.successful_prompts
    assert report.wh_per_1000_queries["total"] == pytest.approx(
        report.energy.total.gross_joules / 3.6 / responses
    )
    assert report.wh_per_query["gpu"] == pytest.approx(report.wh_per_1000_queries["gpu"] / 1000)
    failed = Report.failed("m", CONFIG, "boom", PROVENANCE)
    assert set(failed.wh_per_1000_queries.values()) == {None}  # unknown, never 0


def test_per_query_figures_divide_each_trials_energy_by_its_own_successful_queries():
    """A served model's trials may count different successes (4, then 2): every per-query
    figure (the metrics, models.csv's and AES's columns, the stacked bars) divides each trial's
    energy by its own count, not the mean energy by the first trial's."""
    second = trial(1, 300.0)
    second = replace(
        second, summary={**second.summary, "successful_prompts": 2, "failed_prompts": 2}
    )
    report = completed_report(CONFIG, [trial(0, 300.0), second], IDLE, {}, 400.0, None, PROVENANCE)
    per_trial = (300.0 / 3.6 / 4 + 300.0 / 3.6 / 2) / 2  # 31.25 Wh, not 300 / 3.6 / 4
    assert report.metrics.wh_per_1000_queries == pytest.approx(per_trial)
    assert report.wh_per_1000_queries["gpu"] == pytest.approx(per_trial)
    assert report.wh_per_query["gpu"] == pytest.approx(per_trial / 1000)
    assert report.wh_per_1000_queries["total"] == pytest.approx(
        report.metrics.total_wh_per_1000_queries
    )
    stored = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert stored.wh_per_1000_queries == report.wh_per_1000_queries


def test_aes_tokens_per_joule_is_each_trials_tokens_over_its_own_gpu_energy():
    """With sampling, trial 1 generated twice trial 0's tokens on twice its GPU energy: each
    trial made 1.4 tokens per GPU joule. The summary's tokens are trial 0's (140) and the
    GPU energy the mean (150 J): their ratio, 0.93, describes no trial."""
    from energybench.aes.master_results import aes_row

    first, second = trial(0, 100.0), trial(1, 200.0)
    second = replace(second, summary={**second.summary, "total_tokens": 280})
    report = completed_report(CONFIG, [first, second], IDLE, {}, 400.0, None, PROVENANCE)
    assert aes_row(report)["tokens_per_joule"] == "1.4000"
    stored = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert aes_row(stored)["tokens_per_joule"] == "1.4000"


def test_aes_row_flags_prompts_a_later_trial_lost_that_the_first_did_not():
    """AES's summary counts a row without an error message as a clean success."""
    from energybench.aes.master_results import aes_row

    second = trial(1, 300.0)
    second = replace(
        second, summary={**second.summary, "successful_prompts": 2, "failed_prompts": 2}
    )
    report = completed_report(CONFIG, [trial(0, 300.0), second], IDLE, {}, 400.0, None, PROVENANCE)
    row = aes_row(report)
    assert (row["successful_prompts"], row["failed_prompts"]) == (4, 0)  # the first trial's
    assert row["error_message"].startswith("PARTIAL FAILURE: 2/4 prompts failed (50.0%)")
    assert "in trial 1" in row["error_message"]
    assert (
        aes_row(
            completed_report(
                CONFIG, [trial(0, 300.0), trial(1, 300.0)], IDLE, {}, 400.0, None, PROVENANCE
            )
        )["error_message"]
        == ""
    )


def sections_in(value):
    """Every typed section in ``value`` (a report's field), nested ones and phase splits too."""
    if isinstance(value, Section):
        yield value
        for child in [getattr(value, name) for name in type(value).model_fields] + list(
            getattr(value, "splits", {}).values()
        ):
            yield from sections_in(child)
    elif isinstance(value, (list, dict)):
        for child in value.values() if isinstance(value, dict) else value:
            yield from sections_in(child)


def section_types(kind=Section) -> list[type]:
    """Every subclass of ``kind``, at any depth."""
    return [sub for child in kind.__subclasses__() for sub in (child, *section_types(child))]


def test_every_field_a_section_names_is_a_key_the_reports_have():
    """A misspelt field would read None for ever while the real key sat in ``extra``."""
    from test_load_and_memory import loaded

    from energybench.run.meters.memory import PeakMemory
    from energybench.run.report_builder import memory_section

    reports = [Report.from_dict(d) for d in fixture_documents().values()]
    memory = memory_section(
        {"gpu0": 1},
        None,
        {"framework_allocated_bytes": 1, "framework_reserved_bytes": 1, "framework_reason": None},
        PeakMemory(1, "getrusage", None),
    )
    reports.append(
        completed_report(
            CONFIG,
            [trial(0, 300.0), trial(1, 310.0)],
            IDLE,
            {},
            400.0,
            "power_timeline.csv",
            PROVENANCE,
            load=loaded(),
            warm_up=WARM_UP,
            memory=memory,
        )
    )
    reports.append(image_report())
    seen = {}
    for report in reports:
        for name in REPORT_KEYS:
            for section in sections_in(getattr(report, name)):
                seen.setdefault(type(section), set()).update(section.model_fields_set)
    for kind in section_types():
        if kind is RunError:
            continue  # the failed reports' error: its cause only where there is one
        named = set(kind.model_fields)
        assert named <= seen.get(kind, set()), (kind.__name__, named - seen.get(kind, set()))


def test_a_section_missing_its_optional_keys_reads_as_its_defaults_with_its_own_containers():
    given = {"gross_joules": None, "source": None, "estimated": False, "reason": "not here"}
    first, second = ComponentFigures.from_dict(given), ComponentFigures.from_dict(given)
    assert first.devices == [] and first.devices is not second.devices
    assert first.trial_statistics is None and first.to_dict() == given
    assert TrialFigures.from_dict({}).mean is None


def completed_document() -> dict:
    return completed_report(
        CONFIG,
        [trial(0, 300.0), trial(1, 310.0)],
        IDLE,
        {},
        400.0,
        "power_timeline.csv",
        PROVENANCE,
    ).to_dict()


def set_path(document: dict, path: str, value) -> dict:
    """A deep copy of ``document`` with the field at ``a/b/c`` set (or removed: ...)."""
    document = json.loads(json.dumps(document))
    *parents, last = path.split("/")
    target = document
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    "path, value",
    [
        ("schema_version", "0.9"),  # const
        ("model", "a/b"),  # pattern
        ("status", "done"),  # enum
        ("summary", ...),  # required
        ("summary/total_prompts", -1),  # minimum
        ("summary/total_prompts", "4"),  # type
        ("colour", "red"),  # additionalProperties
        ("error", {"type": 1, "message": "x"}),  # oneOf
        ("energy/components/gpu/gross_joules", None),  # if/then: a reason too
        ("energy/components/gpu/source", "guess"),  # enum, through a $ref
        ("metrics/null_reasons", {"a": 1}),  # additionalProperties schema
        ("metrics/joules_per_token", True),  # a boolean is no number
        ("memory", {"definition": "d"}),  # required, inside a section
        ("checks", [{"name": "c"}]),  # items: required
        (
            "latency",
            {"definition": "d", "ttft_s": {"count": 0, "mean": 1, "median": 1, "p90": 1, "p99": 1}},
        ),  # oneOf with required
    ],
)
def test_the_models_and_the_schema_generated_from_them_refuse_the_same_reports(path, value):
    """The models decide; the generated schema, which users' tools read, says the same
    (jsonschema here is Snakemake's own validator)."""
    document = completed_document()
    jsonschema.Draft202012Validator(report_schema()).validate(document)
    if path == "energy/components/gpu/gross_joules":
        document = set_path(document, "energy/components/gpu/reason", None)
    document = set_path(document, path, value)
    assert not jsonschema.Draft202012Validator(report_schema()).is_valid(document)
    with pytest.raises(ValidationError) as raised:
        validate_report(document)
    field = path.split("/")[0]
    assert problem_of(raised.value).startswith(f"field {field}"), problem_of(raised.value)
