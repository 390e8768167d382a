"""Why an event did or did not match a rule, as lines a rule author reads.

For a detection rule: whether the logsource admits the event, then the
condition as a tree, each selection and each field with the value the event
has and what the rule wanted, then the exceptions. For a correlation: which of
its rules the event matches, the group it falls in, and the state of that
group's window (taken from the state the caller passes, e.g. after replaying
earlier events).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from detectors.engine import RuleEngine, state_key
from detectors.events import AuditEvent
from detectors.rules.fields import EventView
from detectors.rules.logsource import logsource_matches
from detectors.rules.ruleset import CompiledCorrelation, CompiledDetection
from detectors.rules.selection import Trace

__all__ = ["explain"]


def explain(engine: RuleEngine, rule: str, event: AuditEvent, state: Mapping[str, Any]) -> list[str]:
    """The explanation; raises ``KeyError`` naming the known rules if ``rule`` is unknown."""
    found = engine.ruleset.get(rule)
    if found is None:
        known = ", ".join(sorted(r.key for r in engine.ruleset.rules)) or "none"
        raise KeyError(f"no rule named {rule!r}; known rules: {known}")
    view = EventView(event)
    if isinstance(found, CompiledDetection):
        return list(_detection(found, view))
    return list(_correlation(engine, found, view, state))


def _detection(rule: CompiledDetection, view: EventView, indent: str = "") -> Iterator[str]:
    meta = rule.meta
    yield f"{indent}{meta.key}: detection rule ({meta.file}:{meta.line}) - {meta.title}"
    source = rule.logsource
    wanted = ", ".join(f"{k}={v}" for k, v in vars(source).items() if v) or "any event"
    event = view.event
    origin = f"category={event.category.value}, origin.system={event.origin.system}"
    admitted = logsource_matches(source, event)
    yield f"{indent}  logsource {wanted}: {'admits' if admitted else 'does not admit'} the event ({origin})"
    trace = rule.block.explain(view)
    yield from _trace(trace, indent + "  ")
    covered = [e.name for e in rule.exceptions if e.covers(view)]
    if covered:
        yield f"{indent}  exception {', '.join(covered)} covers the event"
    verdict = admitted and trace.matched and not covered
    yield f"{indent}  => {'MATCH' if verdict else 'no match'}"


def _trace(trace: Trace, indent: str) -> Iterator[str]:
    mark = "yes" if trace.matched else "no "
    detail = trace.detail if trace.detail and trace.detail not in ("all of", "any of") else ""
    label = f"{trace.label} ({trace.detail})" if trace.detail in ("all of", "any of") else trace.label
    yield f"{indent}[{mark}] {label}{': ' + detail if detail else ''}"
    for child in trace.children:
        yield from _trace(child, indent + "    ")


def _correlation(
    engine: RuleEngine, rule: CompiledCorrelation, view: EventView, state: Mapping[str, Any]
) -> Iterator[str]:
    meta, spec = rule.meta, rule.spec
    yield f"{meta.key}: {spec.type} correlation ({meta.file}:{meta.line}) - {meta.title}"
    by = ", ".join(spec.group_by) or "nothing (one window for everything)"
    yield f"  group-by {by}; timespan {spec.timespan}s"
    matched_rule = None
    for used in spec.rules:
        target = engine.ruleset.get(used)
        if isinstance(target, CompiledDetection):
            lines = list(_detection(target, view, indent="    "))
            matched = lines[-1].endswith("MATCH")
            yield f"  uses {used}: {'matches' if matched else 'does not match'} this event"
            if matched and matched_rule is None:
                matched_rule = used
            elif not matched:
                yield from lines
        else:
            yield f"  uses {used}: a correlation (it feeds this one when it fires)"
    rule_for_group = matched_rule or (spec.rules[0] if spec.rules else "")
    group = {}
    for name in spec.group_by:
        path = spec.aliases.get(name, {}).get(rule_for_group, name)
        value = view.value(path)
        group[name] = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    key = state_key(rule, view.event.tenant_id, group)
    yield f"  group {group or '{}'} (state key {key!r})"
    current = state.get(key)
    if not isinstance(current, dict) or current.get("fp") != rule.state_id:
        yield "  window: empty (nothing counted for this group yet)"
        return
    yield f"  window: {_window(spec.type, current, spec.timespan)}"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _window(kind: str, state: dict[str, Any], timespan: int) -> str:
    if "start" in state and "e" in state:
        return f"{len(state['e'])} event(s) in the window that opened at {_when(state['start'])}"
    if kind == "event_count":
        times = state.get("t", [])
        if not times:
            return f"no open events; last alert up to {_when(state.get('done'))}"
        return f"{len(times)} event(s) between {_when(times[0])} and {_when(times[-1])}"
    if kind == "value_count":
        values = sorted(state.get("v", {}))
        shown = ", ".join(values[:10]) + (" ..." if len(values) > 10 else "")
        return f"{len(values)} distinct value(s): {shown}"
    if kind == "temporal":
        seen = state.get("r", {})
        return "seen " + (", ".join(f"{r} at {_when(e[0])}" for r, e in sorted(seen.items())) or "nothing")
    if kind == "temporal_ordered":
        chains = state.get("c", [])
        done = sum(1 for c in chains if c is not None)
        return f"{done} of {len(chains)} steps have a chain in progress"
    if kind == "sequence":
        if state.get("start") is None:
            return f"waiting for the first step ({len(state.get('q', []))} recent event(s) of it)"
        return f"at step {state['s'] + 1} since {_when(state['start'])}, {state['n']} event(s) of this step"
    terms = state.get("terms", {})
    return f"{len(terms)} known term(s) within the history; first seen {_when(state.get('first'))}"
