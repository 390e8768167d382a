"""Sliding-window event counting for Sigma ``event_count`` correlations.

The state of one group is a small JSON-able dict, so a Faust table can hold it
and its changelog can restore it after a restart. It never holds whole events:

- ``t``/``ids``/``corr``: time, id and correlation id of each event still able
  to fall in a window, sorted by time. After a firing resets, at most
  ``threshold - 1`` of them can be inside the window, plus those kept for
  lateness, and never more than ``MAX_ENTRIES``;
- ``ev``: summaries of the last ``MAX_EVIDENCE_SAMPLES`` events, for the alert;
- ``wm``: the watermark, the newest event time seen for the group;
- ``done``: the end of the last window that fired; events at or before it were
  already reported, so they never count again (one alert per crossing).

Event time drives the window. An event older than ``wm - allowed_lateness`` is
too late: it is not counted, and ``update`` says so.

With ``reset=False`` (``after_fire: keep``) the events that made an alert stay
in the window, and every later event that finds the window still full fires
again (combine with suppression to rate-limit). With ``tumbling=True`` the
events of a crossing must fall in one epoch-aligned bucket of ``timespan``.

Memory per group: at most ``MAX_ENTRIES`` (time, id, correlation id) triples
and ``MAX_EVIDENCE_SAMPLES`` samples.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_ENTRIES", "Crossing", "Update", "new_state", "update"]

MAX_ENTRIES = 10_000
MAX_EVIDENCE_SAMPLES = 10


@dataclass(frozen=True)
class Crossing:
    """A window that reached the threshold."""

    start: float
    end: float
    count: int
    event_ids: list[str]
    correlation_ids: list[str]
    evidence: list[dict[str, Any]]


@dataclass(frozen=True)
class Update:
    state: dict[str, Any]
    crossing: Crossing | None
    late: bool = False


def new_state() -> dict[str, Any]:
    return {"t": [], "ids": [], "corr": [], "ev": [], "wm": None, "done": None}


def update(
    state: dict[str, Any] | None,
    *,
    time: float,
    event_id: str,
    correlation_id: str | None,
    evidence: dict[str, Any],
    timespan: float,
    threshold: int,
    allowed_lateness: float,
    reset: bool = True,
    tumbling: bool = False,
) -> Update:
    """Count one event into a group's state; report a crossing if this event completes one."""
    current = new_state() if state is None else state
    times: list[float] = list(current["t"])
    ids: list[str] = list(current["ids"])
    corr: list[str | None] = list(current["corr"])
    watermark: float | None = current["wm"]
    done: float | None = current["done"]

    if (watermark is not None and time < watermark - allowed_lateness) or (done is not None and time <= done):
        return Update(current, None, late=True)
    if event_id in ids:
        return Update(current, None)  # a redelivered event counts once

    position = bisect.bisect_right(times, time)
    times.insert(position, time)
    ids.insert(position, event_id)
    corr.insert(position, correlation_id)
    watermark = time if watermark is None else max(watermark, time)
    samples = [*current["ev"], {**evidence, "_t": time}][-MAX_EVIDENCE_SAMPLES:]

    horizon = watermark - allowed_lateness - timespan
    keep_from = max(bisect.bisect_left(times, horizon), len(times) - MAX_ENTRIES)
    del times[:keep_from], ids[:keep_from], corr[:keep_from]
    position -= keep_from

    crossing = _crossing_with(times, position, timespan, threshold, tumbling)
    if crossing is None:
        next_state = {
            "t": times,
            "ids": ids,
            "corr": corr,
            "ev": samples,
            "wm": watermark,
            "done": done,
        }
        return Update(next_state, None)

    first, last = crossing
    start, end = times[first], times[last]
    if tumbling:
        start = (start // timespan) * timespan
    found = Crossing(
        start=start,
        end=end,
        count=last - first + 1,
        event_ids=ids[first : last + 1],
        correlation_ids=sorted({c for c in corr[first : last + 1] if c}),
        evidence=[
            _without_time(s) for s in sorted(samples, key=_sample_time) if times[first] <= s["_t"] <= end
        ],
    )
    if not reset:
        kept = {"t": times, "ids": ids, "corr": corr, "ev": samples, "wm": watermark, "done": done}
        return Update(kept, found)
    # Reset: events up to the window's end have been reported.
    cut = last + 1
    next_state = {
        "t": times[cut:],
        "ids": ids[cut:],
        "corr": corr[cut:],
        "ev": [s for s in samples if s["_t"] > end],
        "wm": watermark,
        "done": end,
    }
    return Update(next_state, found)


def _crossing_with(
    times: list[float], position: int, timespan: float, threshold: int, tumbling: bool = False
) -> tuple[int, int] | None:
    """The earliest window of ``threshold`` events within ``timespan`` that includes ``position``."""
    for first in range(max(0, position - threshold + 1), position + 1):
        last = first + threshold - 1
        if last >= len(times):
            break
        if tumbling:
            if times[first] // timespan == times[last] // timespan:
                return first, last
        elif times[last] - times[first] <= timespan:
            return first, last
    return None


def _sample_time(sample: dict[str, Any]) -> float:
    return float(sample["_t"])


def _without_time(sample: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sample.items() if k != "_t"}
