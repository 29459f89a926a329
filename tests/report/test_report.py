import json
import os

import jsonschema
import pytest

from energybench.aes.report_keys import with_aes_energy_keys
from energybench.report import failed_report, read_report, validate_report, write_json_atomic, write_report

PROVENANCE = {"energybench_version": "0", "code_version": None, "config_hash": None,
              "runtime": {"name": "process"}, "packages": {}, "hardware": {},
              "started_at": "t0", "finished_at": "t1"}


def test_failed_report_is_valid_and_has_no_zero_energy(tmp_path):
    report = failed_report("m", {"num_prompts": 5}, RuntimeError("CUDA out of memory"), PROVENANCE)
    validate_report(report)
    assert report["status"] == "failed" and report["error"]["type"] == "RuntimeError"
    assert report["summary"]["failed_prompts"] == 5
    for component in report["energy"]["components"].values():
        assert component["gross_joules"] is None and "CUDA out of memory" in component["reason"]
    assert report["energy"]["total_energy_wh"] is None
    write_report(tmp_path / "r.json", report)
    assert read_report(tmp_path / "r.json") == with_aes_energy_keys(report)


def test_schema_rejects_a_null_figure_without_reason():
    report = failed_report("m", {}, "boom", PROVENANCE)
    report["energy"]["components"]["gpu"]["reason"] = None
    with pytest.raises(jsonschema.ValidationError):
        validate_report(report)


def test_atomic_write_keeps_the_old_file_when_serialisation_fails(tmp_path):
    path = tmp_path / "report.json"
    write_json_atomic(path, {"ok": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"bad": float("nan")})  # NaN is not JSON
    assert json.loads(path.read_text()) == {"ok": 1}
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left behind


@pytest.mark.parametrize("text, why", [
    ("[]", "not a JSON object but an array"),
    ('"summary"', "not a JSON object but a string"),
    ("{truncated", "not JSON: "),
])
def test_reading_a_file_that_is_no_report_names_the_file_and_why(tmp_path, text, why):
    path = tmp_path / "benchmark_report.json"
    path.write_text(text)
    with pytest.raises(ValueError) as raised:  # not AttributeError from looking up a section
        read_report(path)
    assert str(path) in str(raised.value) and why in str(raised.value)


def test_the_report_schema_is_checked_once_not_per_report(monkeypatch):
    # jsonschema.validate checks the schema itself on every call: 95 % of the time of
    # validating a report, and the paper's tables validate every stored report.
    report = failed_report("m", {}, RuntimeError("boom"), PROVENANCE)
    validate_report(report)
    checks = []
    original = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema, **kw: checks.append(1) or original(schema, **kw)))
    for _ in range(3):
        validate_report(report)
    assert checks == []
    with pytest.raises(jsonschema.ValidationError, match="'no such status' is not one of"):
        validate_report({**report, "status": "no such status"})
