"""Volume: bytes or object counts, measured in deviations of their log from the usual.

Volumes are heavy-tailed, so everything is on ``log1p(volume)``: a decayed mean
and variance per entity (and one for the population, the prior for an entity
with fewer than 3 volumes of its own). What is learned is winsorised at 3
deviations above the usual, so an exfiltration's hundred-fold volumes do not
become the usual within a few events, while a lasting change still moves it.
"""

from __future__ import annotations

import math

from detectors.events import AuditEvent
from detectors.models.sketch import as_float, squash

__all__ = ["VOLUME_FLOOR", "Stats", "stats_update", "volume_measure", "volume_of", "winsorised"]

VOLUME_FLOOR = 0.5
"""The smallest spread of log volume: a steady source is not alarmed by a 1.6x larger object."""
_OWN_MINIMUM = 3
_POPULATION_MINIMUM = 30

Stats = tuple[float, float, float]
"""(mean, variance, count) of log volumes."""


def stats_update(mean: float, var: float, n: float, x: float, span: float = 50.0) -> Stats:
    """A decayed mean and variance over at most ``span`` recent values: (mean, var, n) after ``x``."""
    n += 1.0
    alpha = 1.0 / min(n, span)
    delta = x - mean
    mean += alpha * delta
    var = (1.0 - alpha) * (var + alpha * delta * delta)
    return mean, var, n


def winsorised(x: float, mean: float, var: float, n: float) -> float:
    """``x`` capped at 3 deviations above ``mean`` once there are 3 values.

    >>> winsorised(19.0, 11.0, 1.0, 50), winsorised(19.0, 11.0, 1.0, 2)
    (14.0, 19.0)
    """
    if n < _OWN_MINIMUM:
        return x
    return min(x, mean + 3.0 * max(math.sqrt(var), VOLUME_FLOOR))


def volume_of(event: AuditEvent) -> float | None:
    """The event's volume, where the source has one (``extra.bytes``, ``bytes_out``, object counts)."""
    for name in ("bytes", "bytes_out", "object_count", "objects"):
        if name in event.extra:
            value = as_float(event.extra[name], -1.0)
            if value >= 0.0:
                return value
    return None


def volume_measure(
    volume: float | None, own: Stats, population: Stats, facts: dict[str, str]
) -> tuple[float, float | None]:
    """(feature in [0, 1), log volume): deviations above the entity's usual, or the population's."""
    if volume is None:
        return 0.0, None
    logv = math.log1p(volume)
    if own[2] >= _OWN_MINIMUM:
        (mean, var, _), whose = own, "the actor's usual"
    elif population[2] >= _POPULATION_MINIMUM:
        (mean, var, _), whose = population, "the usual across actors"
    else:
        return 0.0, logv
    z = (logv - mean) / max(math.sqrt(var), VOLUME_FLOOR)
    if z > 1.0:
        times = math.exp(logv - mean)
        facts["volume"] = f"volume {volume:.0f}, {times:.0f}x {whose} ({z:.1f} deviations above)"
    return squash(max(0.0, z - 1.0), 3.0), logv
