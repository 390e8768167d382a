"""Sequences: ordered steps within a timespan, cancelled by ``until``, and absences.

```yaml
correlation:
  type: sequence
  group-by: [actor.id]
  timespan: 10m
  steps:
    - rule: mfa_push_denied
      count: 3               # three denied pushes ...
    - rule: mfa_push_approved  # ... then an approval
  until: [mfa_factor_reset]  # a reset cancels what has been seen so far
```

The sequence starts at its first step's first event and must complete within
``timespan``. A last step with ``absent: true`` turns it into an absence:
"A not followed by B within T" fires once T has passed after A (on event
time: when the watermark passes it) without B; B cancels it. The first step
keeps a sliding list of its recent events, so a burst that starts late is not
lost behind an older, stale one.

Memory per group key: the first step's last ``count`` events, the event ids
of the current attempt (at most ``MAX_IDS``), 10 samples.
"""

from __future__ import annotations

from typing import Any

from detectors.rules.documents import CorrelationSpec
from detectors.rules.hits import IDLE_GRACE, MAX_IDS, Firing, Hit, Outcome, add_sample, samples_between

__all__ = ["sequence_expire", "sequence_update"]


def _empty() -> dict[str, Any]:
    return {"s": 0, "n": 0, "start": None, "ids": [], "corr": [], "q": [], "ev": []}


def sequence_update(
    state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec, *, lateness: float
) -> Outcome:
    current = dict(state) if state is not None else _empty()
    steps = spec.steps
    firings: list[Firing] = []
    if hit.rule in spec.until:
        current.update(s=0, n=0, start=None, ids=[], corr=[], q=[])
        return Outcome(_finish(current, spec, lateness))
    if current["start"] is not None and hit.time - current["start"] > spec.timespan:
        firings.extend(_absence(current, spec))
        _restart(current, spec, hit.time)
    first = steps[0]
    if hit.rule == first.rule:
        queue = [q for q in current["q"] if q[0] >= hit.time - spec.timespan]
        queue = [*queue, [hit.time, hit.event_id, hit.correlation_id]][-first.count :]
        current["q"] = queue
    current["ev"] = add_sample(current["ev"], hit)
    step = current["s"]
    if step == 0:
        if hit.rule == first.rule and len(current["q"]) >= first.count:
            _restart(current, spec, hit.time)
            firings.extend(_complete_if_done(current, spec))
        return Outcome(_finish(current, spec, lateness), firings)
    wanted = steps[step]
    if wanted.rule == hit.rule and hit.time >= current["start"]:
        if wanted.absent:
            current.update(s=0, n=0, start=None, ids=[], corr=[])
            return Outcome(_finish(current, spec, lateness), firings)
        current["n"] += 1
        current["ids"] = [*current["ids"], hit.event_id][-MAX_IDS:]
        current["corr"] = [*current["corr"], hit.correlation_id]
        if current["n"] >= wanted.count:
            current["s"] += 1
            current["n"] = 0
            firings.extend(_complete_if_done(current, spec, end=hit.time))
    return Outcome(_finish(current, spec, lateness), firings)


def sequence_expire(
    state: dict[str, Any], watermark: float, spec: CorrelationSpec, *, lateness: float
) -> Outcome:
    current = dict(state)
    due = current.get("due")
    if due is None or watermark < due:
        return Outcome(state)
    firings = _absence(current, spec)
    _restart(current, spec, watermark)
    current["q"] = [q for q in current["q"] if q[0] >= watermark - spec.timespan]
    return Outcome(_finish(current, spec, lateness), firings)


def _restart(current: dict[str, Any], spec: CorrelationSpec, now: float) -> None:
    """Start over from the first step's recent events, if there are enough of them."""
    first = spec.steps[0]
    queue = [q for q in current["q"] if q[0] >= now - spec.timespan]
    current["q"] = queue
    if len(queue) >= first.count:
        current.update(
            s=1,
            n=0,
            start=queue[0][0],
            ids=[q[1] for q in queue],
            corr=[q[2] for q in queue],
            q=[],
        )
    else:
        current.update(s=0, n=0, start=None, ids=[], corr=[])


def _complete_if_done(
    current: dict[str, Any], spec: CorrelationSpec, end: float | None = None
) -> list[Firing]:
    if current["s"] < len(spec.steps) or current["start"] is None:
        return []
    start = current["start"]
    finish = end if end is not None else start
    firing = _firing(current, spec, start, finish, " then ".join(_describe(s) for s in spec.steps))
    current.update(s=0, n=0, start=None, ids=[], corr=[], q=[])
    return [firing]


def _absence(current: dict[str, Any], spec: CorrelationSpec) -> list[Firing]:
    """The pending absence, if the sequence was waiting for its absent last step."""
    last = spec.steps[-1]
    if not last.absent or current["s"] != len(spec.steps) - 1 or current["start"] is None:
        return []
    start = current["start"]
    detail = f"{' then '.join(_describe(s) for s in spec.steps[:-1])}, not followed by {last.rule}"
    return [_firing(current, spec, start, start + spec.timespan, detail)]


def _firing(current: dict[str, Any], spec: CorrelationSpec, start: float, end: float, detail: str) -> Firing:
    return Firing(
        start,
        end,
        max(1, len(current["ids"])),
        list(current["ids"])[-MAX_IDS:],
        sorted({c for c in current["corr"] if c}),
        samples_between(current["ev"], start, end),
        detail=f"{detail} within {spec.timespan}s",
    )


def _describe(step: Any) -> str:
    return f"{step.rule} x{step.count}" if step.count > 1 else str(step.rule)


def _finish(current: dict[str, Any], spec: CorrelationSpec, lateness: float) -> dict[str, Any] | None:
    """Set the next deadline; None when nothing is pending."""
    if current["start"] is not None:
        current["due"] = current["start"] + spec.timespan + lateness
    elif current["q"]:
        current["due"] = current["q"][-1][0] + spec.timespan + lateness + IDLE_GRACE
    else:
        return None
    return current
