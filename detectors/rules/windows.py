"""Sigma correlations over event-time windows: event_count, value_count, temporal, temporal_ordered.

All windows slide on event time (``tumbling`` for event_count is an option).
Conditions ``gt``/``gte`` fire as soon as they hold (one alert per crossing);
``lt``, ``lte``, ``eq`` and ``neq`` are judged when a window closes: a window
opens at the first event of its group, lasts ``timespan``, and closes when the
watermark passes its end plus the allowed lateness, or when an event of the
group arrives after its end.

Memory per group key (each value is a JSON-able dict):

| type | bound |
|---|---|
| event_count | ``event_count.MAX_ENTRIES`` (10,000) (time, id) pairs, 10 samples |
| event_count / value_count closing | ``MAX_CLOSING`` (10,000) events, 10 samples |
| value_count | ``MAX_VALUES`` (1,000) distinct values with their latest time and id, 10 samples |
| temporal, temporal_ordered | one entry per referenced rule, 10 samples |
"""

from __future__ import annotations

import re
from typing import Any

from detectors.rules import event_count
from detectors.rules.documents import CorrelationSpec
from detectors.rules.hits import IDLE_GRACE, MAX_IDS, Firing, Hit, Outcome, add_sample, samples_between

__all__ = [
    "MAX_CLOSING",
    "MAX_VALUES",
    "count_expire",
    "count_update",
    "ordered_update",
    "temporal_update",
    "ttl_expire",
    "value_update",
]

MAX_VALUES = 1000
MAX_CLOSING = 10_000


def _late(state: dict[str, Any] | None, time: float, lateness: float) -> bool:
    if state is None:
        return False
    watermark, done = state.get("wm"), state.get("done")
    return (watermark is not None and time < watermark - lateness) or (done is not None and time <= done)


def ttl_expire(state: dict[str, Any], watermark: float) -> Outcome:
    """Forget a group whose deadline passed (its windows can hold nothing any more)."""
    due = state.get("due")
    if due is not None and watermark >= due:
        return Outcome(None)
    return Outcome(state)


# event_count ---------------------------------------------------------------


def count_update(
    state: dict[str, Any] | None,
    hit: Hit,
    spec: CorrelationSpec,
    *,
    lateness: float,
    reset: bool,
    tumbling: bool,
) -> Outcome:
    if not spec.crossing:
        return _closing_update(state, hit, spec, lateness, distinct=False)
    updated = event_count.update(
        state,
        time=hit.time,
        event_id=hit.event_id,
        correlation_id=hit.correlation_id,
        evidence=hit.sample,
        timespan=spec.timespan,
        threshold=spec.threshold,
        allowed_lateness=lateness,
        reset=reset,
        tumbling=tumbling,
    )
    if updated.late:
        return Outcome(state, late=True)
    next_state = dict(updated.state)
    next_state["due"] = next_state["wm"] + spec.timespan + lateness + IDLE_GRACE
    crossing = updated.crossing
    if crossing is None:
        return Outcome(next_state)
    firing = Firing(
        crossing.start,
        crossing.end,
        crossing.count,
        crossing.event_ids[-MAX_IDS:],
        crossing.correlation_ids,
        crossing.evidence,
    )
    return Outcome(next_state, [firing])


def count_expire(state: dict[str, Any], watermark: float, spec: CorrelationSpec) -> Outcome:
    if "start" in state:
        return _closing_expire(state, watermark, spec)
    return ttl_expire(state, watermark)


# value_count ---------------------------------------------------------------


def value_update(
    state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec, *, lateness: float, reset: bool
) -> Outcome:
    if not spec.crossing:
        return _closing_update(state, hit, spec, lateness, distinct=True)
    if _late(state, hit.time, lateness):
        return Outcome(state, late=True)
    if hit.value is None:
        return Outcome(state)  # an event without the counted field adds no value
    current = state or {"v": {}, "ev": [], "wm": None, "done": None}
    values: dict[str, list[Any]] = dict(current["v"])
    previous = values.get(hit.value)
    if previous is None or previous[0] <= hit.time:
        values[hit.value] = [hit.time, hit.event_id, hit.correlation_id]
    watermark = hit.time if current["wm"] is None else max(current["wm"], hit.time)
    horizon = watermark - lateness - spec.timespan
    values = {v: entry for v, entry in values.items() if entry[0] >= horizon}
    if len(values) > MAX_VALUES:
        values = dict(sorted(values.items(), key=lambda item: item[1][0])[-MAX_VALUES:])
    samples = add_sample(current["ev"], hit)
    inside = {v: e for v, e in values.items() if e[0] >= watermark - spec.timespan}
    next_state = {"v": values, "ev": samples, "wm": watermark, "done": current["done"]}
    next_state["due"] = watermark + spec.timespan + lateness + IDLE_GRACE
    if not spec.holds(len(inside)):
        return Outcome(next_state)
    entries = sorted(inside.values(), key=lambda e: e[0])
    start, end = entries[0][0], watermark
    firing = Firing(
        start,
        end,
        len(inside),
        [e[1] for e in entries][-MAX_IDS:],
        sorted({e[2] for e in entries if e[2]}),
        samples_between(samples, start, end),
        detail=f"{len(inside)} distinct values of {', '.join(spec.value_fields)}",
    )
    if reset:
        next_state["v"] = {v: e for v, e in values.items() if v not in inside}
        next_state["ev"] = [s for s in samples if s["_t"] > end]
        next_state["done"] = end
    return Outcome(next_state, [firing])


# windows judged when they close ------------------------------------------


def _closing_update(
    state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec, lateness: float, *, distinct: bool
) -> Outcome:
    firings: list[Firing] = []
    current = state
    if current is not None and hit.time > current["start"] + spec.timespan:
        firings.extend(_close(current, spec))
        current = None
    if current is not None and hit.time < current["start"]:
        return Outcome(state, late=True)
    if distinct and hit.value is None:
        return Outcome(current, firings)
    current = current or {"start": hit.time, "e": [], "ev": []}
    events = [*current["e"], [hit.time, hit.event_id, hit.correlation_id, hit.value]][-MAX_CLOSING:]
    next_state = {
        "start": current["start"],
        "e": events,
        "ev": add_sample(current["ev"], hit),
        "distinct": distinct,
        "due": current["start"] + spec.timespan + lateness,
    }
    return Outcome(next_state, firings)


def _closing_expire(state: dict[str, Any], watermark: float, spec: CorrelationSpec) -> Outcome:
    if watermark < state["due"]:
        return Outcome(state)
    return Outcome(None, _close(state, spec))


def _close(state: dict[str, Any], spec: CorrelationSpec) -> list[Firing]:
    events = state["e"]
    distinct = state.get("distinct", False)
    count = len({e[3] for e in events}) if distinct else len(events)
    if not spec.holds(count) or not events:
        return []
    start = state["start"]
    end = start + spec.timespan
    what = f"distinct values of {', '.join(spec.value_fields)}" if distinct else "events"
    return [
        Firing(
            start,
            end,
            max(count, 1),
            [e[1] for e in events][-MAX_IDS:],
            sorted({e[2] for e in events if e[2]}),
            samples_between(state["ev"], start, end),
            detail=f"{count} {what} in the window",
        )
    ]


# temporal ------------------------------------------------------------------


def temporal_update(
    state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec, *, lateness: float
) -> Outcome:
    if _late(state, hit.time, lateness):
        return Outcome(state, late=True)
    current = state or {"r": {}, "ev": [], "wm": None, "done": None}
    seen: dict[str, list[Any]] = dict(current["r"])
    previous = seen.get(hit.rule)
    if previous is None or previous[0] <= hit.time:
        seen[hit.rule] = [hit.time, hit.event_id, hit.correlation_id]
    watermark = hit.time if current["wm"] is None else max(current["wm"], hit.time)
    seen = {r: e for r, e in seen.items() if e[0] >= watermark - spec.timespan - lateness}
    samples = add_sample(current["ev"], hit)
    present = {r for r, e in seen.items() if e[0] >= watermark - spec.timespan}
    holds = _expression(spec.expression, present) if spec.expression else spec.holds(len(present))
    next_state = {"r": seen, "ev": samples, "wm": watermark, "done": current["done"]}
    next_state["due"] = watermark + spec.timespan + lateness + IDLE_GRACE
    if not holds:
        return Outcome(next_state)
    entries = sorted((seen[r] for r in present), key=lambda e: e[0])
    start, end = entries[0][0], watermark
    firing = Firing(
        start,
        end,
        len(entries),
        [e[1] for e in entries],
        sorted({e[2] for e in entries if e[2]}),
        samples_between(samples, start, end),
        detail=f"rules {', '.join(sorted(present))} within {spec.timespan}s",
    )
    next_state.update(r={}, ev=[s for s in samples if s["_t"] > end], done=end)
    return Outcome(next_state, [firing])


_TOKENS = re.compile(r"\(|\)|[^\s()]+")


def _expression(expression: str, present: set[str]) -> bool:
    """Evaluate an and/or expression over rule names (true when the rule occurred)."""
    tokens = _TOKENS.findall(expression)
    position = 0

    def parse_or() -> bool:
        nonlocal position
        value = parse_and()
        while position < len(tokens) and tokens[position] == "or":
            position += 1
            right = parse_and()
            value = value or right
        return value

    def parse_and() -> bool:
        nonlocal position
        value = parse_atom()
        while position < len(tokens) and tokens[position] == "and":
            position += 1
            right = parse_atom()
            value = value and right
        return value

    def parse_atom() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "(":
            value = parse_or()
            position += 1  # the closing parenthesis
            return value
        return token in present

    return parse_or()


# temporal_ordered ----------------------------------------------------------


def ordered_update(
    state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec, *, lateness: float
) -> Outcome:
    steps = len(spec.rules)
    if _late(state, hit.time, lateness):
        return Outcome(state, late=True)
    current = state or {"c": [None] * steps, "ev": [], "wm": None}
    chains: list[Any] = list(current["c"])
    watermark = hit.time if current["wm"] is None else max(current["wm"], hit.time)
    positions = [i for i, rule in enumerate(spec.rules) if rule == hit.rule]
    for index in reversed(positions):
        if index == 0:
            if chains[0] is None or hit.time >= chains[0][0]:
                chains[0] = [hit.time, hit.time, [hit.event_id], [hit.correlation_id]]
            continue
        before = chains[index - 1]
        if before is None or before[1] > hit.time or hit.time - before[0] > spec.timespan:
            continue
        candidate = [before[0], hit.time, [*before[2], hit.event_id], [*before[3], hit.correlation_id]]
        if chains[index] is None or candidate[0] >= chains[index][0]:
            chains[index] = candidate
    horizon = watermark - spec.timespan - lateness
    chains = [c if c is not None and c[0] >= horizon else None for c in chains]
    samples = add_sample(current["ev"], hit)
    next_state = {
        "c": chains,
        "ev": samples,
        "wm": watermark,
        "due": watermark + spec.timespan + lateness + IDLE_GRACE,
    }
    done = chains[-1]
    if done is None:
        return Outcome(next_state)
    start, end = done[0], done[1]
    firing = Firing(
        start,
        end,
        steps,
        done[2],
        sorted({c for c in done[3] if c}),
        samples_between(samples, start, end),
        detail=f"{' then '.join(spec.rules)} within {spec.timespan}s",
    )
    next_state.update(c=[None] * steps, ev=[s for s in samples if s["_t"] > end])
    return Outcome(next_state, [firing])
