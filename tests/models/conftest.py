from __future__ import annotations

from functools import cache

from pipeline.simulate import SimulatedStream, SimulationConfig, simulate


@cache
def small_stream(seed: int = 11) -> SimulatedStream:
    """A few people and services over three days, with every attack type."""
    return simulate(SimulationConfig(seed=seed, days=3, humans=8, services=2))
