"""New terms (first seen): a group shows a value it has not shown within the history window.

```yaml
correlation:
  type: new_terms
  rules: [okta_login_success]
  group-by: [actor.id]
  fields: [client.geographicalContext.country]
  timespan: 30d            # the history window
  max-terms: 1000          # per group; the least recently seen term goes first
  learn-new-groups: true   # a group's very first event is learned, not alerted
  learning-period: 7d      # no alerts until a group has this much history
```

The history is kept per group key as ``{term: last seen}``, so memory per key
is bounded by ``max-terms`` (default 1,000, at most 10,000). A term not seen
for ``timespan`` counts as new again; a group whose terms have all aged out
is forgotten.
"""

from __future__ import annotations

from typing import Any

from detectors.rules.documents import CorrelationSpec
from detectors.rules.hits import Firing, Hit, Outcome, samples_between

__all__ = ["new_terms_expire", "new_terms_update"]


def new_terms_update(state: dict[str, Any] | None, hit: Hit, spec: CorrelationSpec) -> Outcome:
    if hit.value is None:
        return Outcome(state)
    new_group = state is None
    current = state or {"terms": {}, "first": hit.time}
    history = spec.timespan
    terms: dict[str, float] = {t: seen for t, seen in current["terms"].items() if seen >= hit.time - history}
    last = terms.get(hit.value)
    known = len(terms)
    is_new = last is None and current["terms"].get(hit.value, -1.0) < hit.time
    terms[hit.value] = hit.time if last is None else max(last, hit.time)
    if len(terms) > spec.max_terms:
        terms = dict(sorted(terms.items(), key=lambda item: item[1])[-spec.max_terms :])
    first = min(current["first"], hit.time)
    next_state = {"terms": terms, "first": first, "due": max(terms.values()) + history}
    learning = hit.time - first < spec.learning_period
    if not is_new or learning or (new_group and spec.learn_new_groups):
        return Outcome(next_state)
    sample = {k: v for k, v in hit.sample.items()}
    firing = Firing(
        hit.time,
        hit.time,
        1,
        [hit.event_id],
        [hit.correlation_id] if hit.correlation_id else [],
        samples_between([{**sample, "_t": hit.time}], hit.time, hit.time),
        detail=f"first {', '.join(spec.value_fields)} = {hit.value} in {known} known",
    )
    return Outcome(next_state, [firing])


def new_terms_expire(state: dict[str, Any], watermark: float, spec: CorrelationSpec) -> Outcome:
    terms = {t: seen for t, seen in state["terms"].items() if seen >= watermark - spec.timespan}
    if not terms:
        return Outcome(None)
    return Outcome({**state, "terms": terms, "due": max(terms.values()) + spec.timespan})
