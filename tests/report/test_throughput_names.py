"""One definition per name (issue 22, item 5): wherever a column or field is named
``completion_tokens_per_second`` it counts generated tokens, and wherever it is named
``throughput_tokens_per_second`` (AI Energy Score's name) prompt and generated tokens, over
the same window: in the report, models.csv, trials.csv, AES's master_results.csv and the
site's data. Each trial is summed as the pytorch backend sums its batches."""

import dataclasses

import pytest
from test_report import PROVENANCE
from test_results import IDLE, window

from energybench.aes.master_results import aes_row
from energybench.publish.paper.aggregate import report_row
from energybench.run.backends import Trial
from energybench.run.backends.pytorch import BatchTiming, window_summary
from energybench.publish.paper.tables import trial_rows
from energybench.run.report import Report
from energybench.run.report_builder import completed_report, steady_state_section
from energybench.publish.site.entries import model_entry

COMPLETION = "completion_tokens_per_second"
AES_THROUGHPUT = "throughput_tokens_per_second"
CONFIG = {"model": "m", "num_prompts": 8, "measurement": {"carbon_intensity_g_per_kwh": 400}}


def trial(index: int, duration_s: float) -> Trial:
    """8 prompts of 60 tokens each generating 16: 480 prompt and 128 generated tokens."""
    batches = [BatchTiming(4, duration_s / 2, 0.01, 240, 64) for _ in range(2)]
    return Trial(index, window_summary(batches, duration_s), window(f"t{index}", duration_s))


@pytest.fixture
def report() -> Report:
    return completed_report(
        CONFIG, [trial(0, 2.0), trial(1, 2.5)], IDLE, {}, 400.0, None, PROVENANCE
    )


def test_every_trial_names_its_rates_by_what_they_count(report):
    for record, row in zip(report.trials, trial_rows(report), strict=True):
        for rates in (record.to_dict(), row):
            assert rates[COMPLETION] == pytest.approx(128 / record.duration_s)
            assert rates[AES_THROUGHPUT] == pytest.approx((480 + 128) / record.duration_s)


def test_the_tables_and_the_site_show_generated_tokens_and_aes_its_own(report):
    generated = report.summary.completion_tokens_per_second
    assert generated == pytest.approx((128 / 2.0 + 128 / 2.5) / 2)
    assert report_row(report)[COMPLETION] == generated
    assert model_entry(report, None)[COMPLETION]["value"] == generated
    assert AES_THROUGHPUT not in report_row(report)
    assert AES_THROUGHPUT not in model_entry(report, None)
    assert float(aes_row(report)[AES_THROUGHPUT]) == pytest.approx(
        (608 / 2.0 + 608 / 2.5) / 2, abs=0.005
    )


def test_a_steady_state_window_counts_generated_tokens_under_their_name():
    served = dataclasses.replace(
        trial(0, 2.0),
        phase_windows={"steady_state": window("s", 1.5)},
        extra={
            "steady_state": {
                "start_s": 0.2,
                "end_s": 1.7,
                "duration_s": 1.5,
                "output_tokens": 90,
                "reason": None,
            }
        },
    )
    [steady] = steady_state_section([served], IDLE, {}).trials
    assert steady.completion_tokens_per_second == pytest.approx(90 / 1.5)
    assert AES_THROUGHPUT not in steady.to_dict()
