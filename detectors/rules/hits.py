"""The vocabulary of correlation state machines: a hit goes in, firings come out.

Every state machine (``windows``, ``sequence``, ``new_terms``) is a pair of pure
functions over one group's state, a JSON-able dict the caller stores in its
``MutableMapping`` (a Faust table in the worker, whose changelog restores it):

- ``update(state, hit, ...)`` counts one matching event;
- ``expire(state, watermark, ...)`` handles the passing of event time: windows
  that close, absences that are confirmed, history that ages out.

A state may name its next deadline in ``state["due"]``; the engine calls
``expire`` once the watermark (the newest event time seen) passes it. A state
of ``None`` means the group has nothing left to remember and its key can go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "IDLE_GRACE",
    "MAX_EVIDENCE_SAMPLES",
    "MAX_IDS",
    "Firing",
    "Hit",
    "Outcome",
    "add_sample",
    "samples_between",
]

MAX_EVIDENCE_SAMPLES = 10
MAX_IDS = 100
IDLE_GRACE = 3600.0
"""Seconds of event time a group's state is kept after its windows can no longer fire.

The watermark is the newest event time of the whole stream, while each group
judges lateness on its own newest event; the grace keeps a group whose source
runs behind the rest from losing its open windows."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One event (or one firing of a chained correlation) matched by ``rule``."""

    rule: str
    time: float
    event_id: str
    correlation_id: str | None = None
    sample: dict[str, Any] = field(default_factory=dict)
    value: str | None = None
    """The value a value_count or new_terms correlation looks at, as text."""


@dataclass(frozen=True)
class Firing:
    start: float
    end: float
    count: int
    event_ids: list[str]
    correlation_ids: list[str]
    evidence: list[dict[str, Any]]
    detail: str | None = None


@dataclass(frozen=True)
class Outcome:
    state: dict[str, Any] | None
    firings: list[Firing] = field(default_factory=list)
    late: bool = False


def add_sample(samples: list[dict[str, Any]], hit: Hit) -> list[dict[str, Any]]:
    """The last ``MAX_EVIDENCE_SAMPLES`` samples, each with its event time under ``_t``."""
    return [*samples, {**hit.sample, "_t": hit.time}][-MAX_EVIDENCE_SAMPLES:]


def samples_between(samples: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    chosen = sorted((s for s in samples if start <= s["_t"] <= end), key=lambda s: float(s["_t"]))
    return [{k: v for k, v in s.items() if k != "_t"} for s in chosen]
