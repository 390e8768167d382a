"""Bounded per-entity memory: TTL sets, decayed counters and an hour-of-day profile.

Everything here is a plain JSON value (dicts, lists, floats), so an entity's state
can live in any ``MutableMapping`` (a changelog-backed table in the worker, a dict
in replay) and survives a restart unchanged.

Memory per entity is fixed by the caps below, whatever the traffic:

- a TTL set holds at most ``cap`` keys of 8 hex characters (a CRC-32 of the value)
  with their last-seen time; the oldest key is evicted first;
- a decayed counter is one float plus the time it was last decayed;
- the hour profile is 24 floats.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

__all__ = ["as_float", "decay", "hour_profile_update", "hour_share", "key_of", "squash", "ttl_seen"]


def key_of(value: str) -> str:
    """A stable 8-character key for a value (stable across processes, unlike ``hash``)."""
    return f"{zlib.crc32(value.encode('utf-8', 'replace')):08x}"


def ttl_seen(table: dict[str, float], value: str, now: float, ttl: float, cap: int) -> bool:
    """Record ``value`` at ``now``; return whether it was already seen within ``ttl`` seconds.

    >>> seen: dict[str, float] = {}
    >>> ttl_seen(seen, "10.0.0.1", 0.0, 3600.0, 4), ttl_seen(seen, "10.0.0.1", 10.0, 3600.0, 4)
    (False, True)
    """
    key = key_of(value)
    last = table.get(key)
    known = last is not None and now - last <= ttl
    table[key] = max(now, last) if last is not None else now
    if len(table) > cap:
        oldest = min(table, key=table.__getitem__)
        del table[oldest]
    return known


def decay(value: float, last: float, now: float, half_life: float) -> float:
    """``value`` decayed from time ``last`` to ``now`` with the given half-life (seconds)."""
    if now <= last:
        return value
    return value * math.exp2(-(now - last) / half_life)


def hour_profile_update(profile: list[float], hour: float, weight: float = 1.0, keep: float = 0.995) -> None:
    """Add one event at ``hour`` (0-24) to a 24-bin profile that slowly forgets."""
    for i in range(24):
        profile[i] *= keep
    profile[int(hour) % 24] += weight


def hour_share(profile: list[float], hour: float) -> float:
    """Share of the entity's activity at this hour and the hour either side, in [0, 1]."""
    total = sum(profile)
    if total <= 0.0:
        return 0.0
    h = int(hour) % 24
    near = profile[h] + 0.5 * (profile[(h - 1) % 24] + profile[(h + 1) % 24])
    return min(1.0, near / total)


def squash(value: float, scale: float) -> float:
    """Map [0, inf) onto [0, 1): ``value / (value + scale)``."""
    if value <= 0.0:
        return 0.0
    return value / (value + scale)


def as_float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
