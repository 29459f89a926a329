"""Pure energy arithmetic: counter deltas, power integration, idle subtraction, phases,
trial statistics, self-checks and units. No device access here (see ``energybench.run.meters``)."""

from energybench.run.energy.baseline import NetEnergy, idle_power, subtract_idle
from energybench.run.energy.checks import (
    Check,
    check_counter_vs_integral,
    check_power_range,
    check_trial_variation,
    check_window_length,
)
from energybench.run.energy.counters import CounterDelta, counter_delta
from energybench.run.energy.integrate import PowerIntegral, energy_from_totals, integrate_power
from energybench.run.energy.phases import PhaseSplit, split_phases
from energybench.run.energy.trials import TrialStatistics, trial_statistics
from energybench.run.energy.units import co2_grams, efficiency_figures, joules_to_kwh, joules_to_wh

__all__ = [
    "Check",
    "CounterDelta",
    "NetEnergy",
    "PhaseSplit",
    "PowerIntegral",
    "TrialStatistics",
    "check_counter_vs_integral",
    "check_power_range",
    "check_trial_variation",
    "check_window_length",
    "co2_grams",
    "counter_delta",
    "efficiency_figures",
    "energy_from_totals",
    "idle_power",
    "integrate_power",
    "joules_to_kwh",
    "joules_to_wh",
    "split_phases",
    "subtract_idle",
    "trial_statistics",
]
