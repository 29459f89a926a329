"""Energy meters: NVML (GPU), RAPL (CPU package, DRAM), marked estimates, a background sampler.

Entry point: ``EnergyMonitor.create(...)``; see docs/energy.md for every figure it reports.
"""

from energybench.run.meters.measurement import (
    ComponentEnergy,
    IdleBaseline,
    IdlePower,
    WindowMeasurement,
)
from energybench.run.meters.monitor import EnergyMonitor

__all__ = ["ComponentEnergy", "EnergyMonitor", "IdleBaseline", "IdlePower", "WindowMeasurement"]
