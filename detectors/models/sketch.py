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

__all__ = [
    "TtlTable",
    "as_float",
    "decay",
    "hour_profile_update",
    "hour_share",
    "key_of",
    "squash",
    "ttl_known",
    "ttl_record",
    "ttl_seen",
    "ttl_suspect",
]


def key_of(value: str) -> str:
    """A stable 8-character key for a value (stable across processes, unlike ``hash``)."""
    return f"{zlib.crc32(value.encode('utf-8', 'replace')):08x}"


TtlTable = dict[str, Any]
"""key -> ``[last seen, times seen]`` (a bare float, the format before counts, is read as seen once);
``[first flagged, 0]`` for a suspect value (``ttl_suspect``), which is not known."""


def _entry(value: Any) -> tuple[float, int]:
    if isinstance(value, list):
        return float(value[0]), int(value[1])
    return float(value), 1


def ttl_known(table: TtlTable, value: str, now: float, ttl: float, quarantine: float = math.inf) -> bool:
    """Whether ``value`` was recorded within ``ttl`` seconds before ``now`` (reads only); a suspect
    (``ttl_suspect``) is known once ``quarantine`` seconds have passed since it was first flagged."""
    entry = table.get(key_of(value))
    if entry is None:
        return False
    last, count = _entry(entry)
    return (count > 0 or now - last >= quarantine) and now - last <= ttl


def ttl_record(table: TtlTable, value: str, now: float, cap: int) -> None:
    """Record ``value`` at ``now``; beyond ``cap`` keys, evict the oldest key seen only once.

    Habits outlive one-offs: a flood of values seen once (an attacker's sixty
    resources) evicts itself, not the values the entity uses every day, which
    would otherwise all look new again after it. Only when every key was seen
    twice or more does the oldest go.

    >>> table: TtlTable = {}
    >>> for t, v in enumerate(["home", "home", "a", "b", "c"]):
    ...     ttl_record(table, v, float(t), cap=2)
    >>> [ttl_known(table, v, 5.0, 60.0) for v in ("home", "a", "c")]
    [True, False, True]
    """
    key = key_of(value)
    entry = table.get(key)
    if entry is None:
        table[key] = [now, 1]
    else:
        last, count = _entry(entry)
        table[key] = [max(now, last), count + 1]
    _evict(table, key, cap)


def ttl_suspect(table: TtlTable, value: str, now: float, cap: int) -> None:
    """Note ``value`` from a flagged event: a suspect, not known while quarantined (``ttl_known``).

    A flagged value stays new for the rest of its burst, so an attack does not
    teach the profile while it goes on. But a habit the detector flagged at first
    (an admin's first ``iam.ListUsers``) would then alert every day, forever: a
    suspect seen again after its quarantine, on another occasion, is known.
    Suspects are evicted first.

    >>> table: TtlTable = {}
    >>> ttl_suspect(table, "iam.ListUsers", 0.0, 4)
    >>> ttl_suspect(table, "iam.ListUsers", 60.0, 4)
    >>> ttl_known(table, "iam.ListUsers", 120.0, 86_400.0, quarantine=3600.0)
    False
    >>> ttl_known(table, "iam.ListUsers", 7200.0, 86_400.0, quarantine=3600.0)
    True
    """
    key = key_of(value)
    if key not in table:
        table[key] = [now, 0]
        _evict(table, key, cap)


def _evict(table: TtlTable, key: str, cap: int) -> None:
    """Beyond ``cap`` keys, drop the oldest suspect or once-seen key other than ``key``, else the oldest."""
    if len(table) > cap:
        once = [k for k, v in table.items() if _entry(v)[1] <= 1 and k != key]
        candidates = once or [k for k in table if k != key]
        del table[min(candidates, key=lambda k: _entry(table[k])[0])]


def ttl_seen(table: TtlTable, value: str, now: float, ttl: float, cap: int) -> bool:
    """Record ``value`` at ``now``; return whether it was already seen within ``ttl`` seconds.

    >>> seen: TtlTable = {}
    >>> ttl_seen(seen, "10.0.0.1", 0.0, 3600.0, 4), ttl_seen(seen, "10.0.0.1", 10.0, 3600.0, 4)
    (False, True)
    """
    known = ttl_known(table, value, now, ttl)
    ttl_record(table, value, now, cap)
    return known


def decay(value: float, last: float, now: float, half_life: float) -> float:
    """``value`` decayed from time ``last`` to ``now`` with the given half-life (seconds)."""
    if now <= last:
        return value
    return value * math.exp2(-(now - last) / half_life)


def hour_profile_update(profile: list[float], hour: float, keep: float = 1.0) -> None:
    """Add one event at ``hour`` (0-24) to a 24-bin profile, after multiplying it by ``keep``.

    Forget by elapsed time (``keep = decay(1.0, last, now, half_life)``), not per event:
    per event, a service calling every minute forgot its night within hours, so
    every hour it came back to looked odd.
    """
    if keep < 1.0:
        for i in range(24):
            profile[i] *= keep
    profile[int(hour) % 24] += 1.0


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
