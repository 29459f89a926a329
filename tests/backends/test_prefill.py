"""Prefill measured the way a counter can resolve it: repeated passes, divided, checked
(issue 10 item 6)."""

from types import SimpleNamespace

import pytest

from energybench.run.backends.pytorch import PREFILL_MIN_BATCHES, BatchTiming, PyTorchBackend
from energybench.run.meters import ComponentEnergy, WindowMeasurement
from energybench.run.energy.phases import split_window_phases


def gpu_window(name, duration, joules, **detail):
    return WindowMeasurement(
        name,
        0.0,
        duration,
        {
            "gpu": ComponentEnergy(
                "gpu", joules, "nvml", devices=["gpu0"], detail={"resolution_j": 0.001, **detail}
            )
        },
    )


class ClockMonitor:
    """Opens and closes windows; each window's energy is 400 W x its duration."""

    def __init__(self, minimum_s):
        self.minimum_s, self.windows, self.opened = minimum_s, [], {}

    def minimum_window_s(self, relative_resolution):
        assert relative_resolution == 0.02
        return self.minimum_s

    def begin_window(self, name):
        import time

        self.opened[name] = time.monotonic()

    def end_window(self, name):
        import time

        duration = time.monotonic() - self.opened.pop(name)
        self.windows.append(name)
        return gpu_window(name, duration, 400.0 * duration)


def stub_backend(prompts, batch_size):
    backend = PyTorchBackend.__new__(PyTorchBackend)  # no model: _generate is replaced
    backend.cfg = SimpleNamespace(
        batch_size=batch_size,
        max_new_tokens=8,
        effective_min_new_tokens=1,
        runs_each_prompt_once=False,
    )
    backend.texts = [f"prompt {i}" for i in range(prompts)]
    backend.calls = []

    def generate(batch, max_new_tokens, min_new_tokens):
        backend.calls.append(max_new_tokens)
        return BatchTiming(len(batch), 0.001, 0.001, 10 * len(batch), max_new_tokens * len(batch))

    backend._generate = generate
    return backend


def test_prefill_repeats_whole_passes_until_enough_batches_and_time():
    backend = stub_backend(prompts=8, batch_size=4)  # 2 batches a pass
    monitor = ClockMonitor(minimum_s=0.2)
    trial = backend.run_trial(0, monitor)
    passes = trial.extra["prefill_passes"]
    assert passes >= PREFILL_MIN_BATCHES / 2  # at least 10 batches
    assert trial.phase_windows["prefill"].duration_s >= 0.2
    assert backend.calls.count(1) == 2 * passes  # every pass covers every batch
    assert monitor.windows == ["trial0.prefill", "trial0.generate"]


def test_prefill_per_pass_is_the_window_over_its_passes():
    # A 50 ms prefill at 400 W is 20 J: 200 passes give 4,000 J over 10 s.
    phases = split_window_phases(
        gpu_window("p", 10.0, 4000.0, resolution_j=800.0 * 0.1),
        gpu_window("g", 30.0, 12000.0, resolution_j=2400.0 * 0.1),
        passes=200,
    )
    assert phases["gpu"].prefill == pytest.approx(20.0)
    assert phases["gpu"].decode == pytest.approx(11980.0)
    assert phases["latency"].prefill == pytest.approx(0.05)


def test_a_prefill_window_the_counter_cannot_resolve_is_invalid():
    # One pass: the counter ticked once in a 50 ms window and read 40 J (the true figure is 20 J)
    phases = split_window_phases(
        gpu_window("p", 0.05, 40.0, resolution_j=2 * 800 * 0.1),
        gpu_window("g", 30.0, 12000.0, resolution_j=240.0),
    )
    assert phases["gpu"].prefill is None and phases["gpu"].decode is None
    assert "prefill invalid" in phases["gpu"].reason and "resolved only" in phases["gpu"].reason


def test_a_prefill_window_that_read_zero_joules_is_unresolved_not_a_free_prefill():
    # The meter resolves 0.2 J and read 0 J: that is no 0 J prefill (decode = all of generate)
    phases = split_window_phases(
        gpu_window("p", 10.0, 0.0, resolution_j=0.2),
        gpu_window("g", 30.0, 50.0, resolution_j=0.2),
        passes=10,
    )
    assert phases["gpu"].prefill is None and phases["gpu"].decode is None
    assert "resolved only" in phases["gpu"].reason


def test_a_prefill_window_failing_the_counter_check_gives_no_decode():
    prefill = gpu_window(
        "p",
        10.0,
        4000.0,
        resolution_j=80.0,
        counter_j=4000.0,
        integral_j=3000.0,
        counter_resolution_j=80.0,
        integral_resolution_j=40.0,
    )
    phases = split_window_phases(
        prefill, gpu_window("g", 30.0, 12000.0, resolution_j=240.0), passes=200
    )
    assert phases["gpu"].decode is None
    assert "gpu_counter_matches_power_integral" in phases["gpu"].reason


def test_a_short_generation_repeats_whole_passes_until_its_window_is_long_enough():
    backend = stub_backend(prompts=8, batch_size=4)  # 2 batches a pass, 1 ms each
    trial = backend.run_trial(0, ClockMonitor(minimum_s=0.05))
    passes = trial.extra["generate_passes"]
    assert passes > 1 and trial.window.duration_s >= 0.05
    assert backend.calls.count(8) == 2 * passes
    # Every prompt the window ran counts: per-token and per-query figures divide by them all.
    assert trial.summary["total_prompts"] == 8 * passes
    assert trial.summary["total_completion_tokens"] == 8 * 8 * passes


def test_generate_per_pass_enters_the_phases():
    phases = split_window_phases(
        gpu_window("p", 10.0, 4000.0, resolution_j=80.0),
        gpu_window("g", 30.0, 12000.0, resolution_j=240.0),
        passes=200,
        generate_passes=3,
    )
    assert phases["gpu"].generate == pytest.approx(4000.0)
    assert phases["gpu"].decode == pytest.approx(3980.0)
    assert phases["latency"].generate == pytest.approx(10.0)


def test_ai_energy_scores_protocol_runs_each_prompt_once():
    backend = stub_backend(prompts=8, batch_size=4)
    backend.cfg.runs_each_prompt_once = True
    trial = backend.run_trial(0, ClockMonitor(minimum_s=0.05))
    assert trial.extra["generate_passes"] == 1 and trial.summary["total_prompts"] == 8


class SlowStartMonitor(ClockMonitor):
    """A monitor whose window starts only after its preparation (a /proc scan) took time."""

    def begin_window(self, name):
        import time

        time.sleep(0.05)
        super().begin_window(name)


def test_a_repeated_window_lasts_the_minimum_however_long_its_start_took():
    backend = stub_backend(prompts=8, batch_size=4)
    trial = backend.run_trial(0, SlowStartMonitor(minimum_s=0.1))
    assert trial.window.duration_s >= 0.1
    assert trial.phase_windows["prefill"].duration_s >= 0.1
