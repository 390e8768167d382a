"""The rule engine: one event in, findings out, with window state kept outside.

State lives in a ``MutableMapping`` the caller owns: a plain dict in replay and
tests, a changelog-backed Faust table in the worker. That keeps this module
free of Kafka and lets a restarted worker continue counting where it stopped.

Per event the engine

1. asks the rule index for the detection rules that can match it, tests them,
   and reports the ones that alert on their own;
2. feeds every matching rule to the correlations that use it; a correlation
   that fires reports a finding and feeds, in turn, the correlations that use
   it (chaining); an anomaly detector's finding enters the same way through
   ``observe``, for correlations that name the detector;
3. moves the watermark (the newest event time seen) and lets the windows whose
   deadline it passed close: absences are confirmed, ``lt``/``eq`` windows
   judged, idle groups forgotten.

Each state value records the fingerprint of its correlation, so a changed
correlation starts from empty windows while an unchanged one keeps its state
across a rule reload. Deadlines are kept in memory and rebuilt by scanning the
state at start (and every ``RESCAN_EVERY`` events), so a restarted worker
still closes the windows it recovered.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detectors.events import AuditEvent
from detectors.findings import MAX_EVIDENCE_IDS, Finding, evidence_sample
from detectors.rules import CompiledCorrelation, CompiledDetection, RuleSet
from detectors.rules.documents import RuleMeta
from detectors.rules.fields import EventView
from detectors.rules.hits import Firing, Hit, Outcome
from detectors.rules.index import RuleIndex
from detectors.rules.new_terms import new_terms_expire, new_terms_update
from detectors.rules.output import labels_for, render
from detectors.rules.sequence import sequence_expire, sequence_update
from detectors.rules.timespan import format_timespan
from detectors.rules.values import as_time
from detectors.rules.windows import (
    count_expire,
    count_update,
    ordered_update,
    temporal_update,
    ttl_expire,
    value_update,
)

__all__ = ["RESCAN_EVERY", "SUPPRESS_PREFIX", "EngineResult", "RuleEngine", "StateStore", "state_key"]

StateStore = MutableMapping[str, Any]
SUPPRESS_PREFIX = "~suppress|"
RESCAN_EVERY = 100_000


@dataclass
class EngineResult:
    findings: list[Finding] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    late_for: list[str] = field(default_factory=list)
    """Correlations that did not count this event because it arrived too late."""
    suppressed: list[str] = field(default_factory=list)
    """Rules whose finding was held back by their suppression period."""


def state_key(correlation: CompiledCorrelation, tenant_id: str, group: dict[str, str]) -> str:
    """The key of one group's window state: stable across restarts and rule reloads."""
    return f"{correlation.key}|{tenant_id}|{json.dumps(group, sort_keys=True, separators=(',', ':'))}"


@dataclass
class _Work:
    """A rule that matched: a detection on an event, or a correlation that fired."""

    rule: str
    view: EventView | None
    tenant: str
    time: float
    event_id: str
    correlation_id: str | None
    sample: dict[str, Any]
    hint: dict[str, str] | None = None


class _Timers:
    """Deadlines per state key, earliest first, with stale entries skipped."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}

    def set(self, key: str, due: float | None) -> None:
        if due is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        if len(self._heap) > 4 * len(self._due) + 1024:
            self._heap = [(d, k) for k, d in self._due.items()]
            heapq.heapify(self._heap)

    def pop_due(self, now: float) -> list[str]:
        found = []
        while self._heap and self._heap[0][0] <= now:
            due, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                found.append(key)
        return found

    def __len__(self) -> int:
        return len(self._due)


class RuleEngine:
    """Evaluates a rule set over events, one at a time, in any order of event time."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.index = RuleIndex(ruleset.detections)
        self.watermark: float | None = None
        self._timers = _Timers()
        self._since_scan: int | None = None
        self._correlations = {c.key: c for c in ruleset.correlations}

    # -- public ---------------------------------------------------------------

    def evaluate(self, event: AuditEvent, state: StateStore) -> EngineResult:
        view = EventView(event)
        result = EngineResult()
        work: deque[_Work] = deque()
        sample: dict[str, Any] | None = None
        for detection in self.index.candidates(view):
            if not detection.matches(view):
                continue
            result.matched_rules.append(detection.key)
            if detection.emits:
                self._emit(detection.meta, _single_event_finding(detection, view), view, state, result)
            if self.ruleset.consumers(detection.key):
                sample = sample or evidence_sample(event)
                work.append(
                    _Work(
                        detection.key,
                        view,
                        event.tenant_id,
                        view.time,
                        event.event_id,
                        event.correlation_id,
                        sample,
                    )
                )
        self._correlate(work, state, result)
        self._advance(view.time, state, result)
        return result

    def observe(self, finding: Finding, event: AuditEvent, state: StateStore) -> list[Finding]:
        """Feed a detector's finding on ``event`` to the correlations that name the detector.

        The finding counts as a match of a rule named ``finding.rule_id`` on ``event``, through
        the same path as a detection's match (windows, lateness, exceptions, suppression,
        chaining), so "anomalous login, then an admin grant" is an ordinary correlation. The
        finding's group (``actor.id`` for the behaviour detector) is preferred over the event's
        fields when the correlation groups by the same names. Returns the findings it caused.
        """
        if not self.ruleset.consumers(finding.rule_id):
            return []
        view = EventView(event)
        result = EngineResult()
        item = _Work(
            finding.rule_id,
            view,
            finding.tenant_id,
            view.time,
            event.event_id,
            event.correlation_id,
            evidence_sample(event),
            dict(finding.group),
        )
        self._correlate(deque([item]), state, result)
        return result.findings

    def advance(self, state: StateStore, watermark: float) -> list[Finding]:
        """Move event time forward with no event (a test's ``until``, the end of a backtest)."""
        result = EngineResult()
        self._advance(watermark, state, result)
        return result.findings

    def matches(self, rule: str, event: AuditEvent) -> bool:
        """Whether the detection rule ``rule`` (name, id or title) matches the event on its own."""
        found = self.ruleset.get(rule)
        return isinstance(found, CompiledDetection) and _admits(found, EventView(event))

    # -- correlation ------------------------------------------------------------

    def _correlate(self, work: deque[_Work], state: StateStore, result: EngineResult) -> None:
        counted: set[tuple[str, str]] = set()
        while work:
            item = work.popleft()
            for correlation in self.ruleset.consumers(item.rule):
                view = item.view
                if view is not None and any(e.covers(view) for e in correlation.exceptions):
                    continue
                spec = correlation.spec
                group = self._group(correlation, item)
                key = state_key(correlation, item.tenant, group)
                if spec.type in ("event_count", "value_count"):
                    if (correlation.key, key) in counted:
                        continue  # an event matching two of its rules counts once
                    counted.add((correlation.key, key))
                hit = Hit(
                    item.rule,
                    self._time(correlation.meta, item),
                    item.event_id,
                    item.correlation_id,
                    item.sample,
                    self._value(correlation, item),
                )
                current = self._load(correlation, key, state)
                outcome = self._update(correlation, current, hit)
                if outcome.late:
                    result.late_for.append(correlation.key)
                    continue
                self._store(correlation, key, outcome.state, state)
                for firing in outcome.firings:
                    self._fired(correlation, firing, group, item.tenant, view, state, result, work)

    def _update(self, correlation: CompiledCorrelation, current: dict[str, Any] | None, hit: Hit) -> Outcome:
        spec, options = correlation.spec, correlation.meta.options
        lateness = options.allowed_lateness
        if spec.type == "event_count":
            return count_update(
                current,
                hit,
                spec,
                lateness=lateness,
                reset=options.after_fire == "reset",
                tumbling=options.window == "tumbling",
            )
        if spec.type == "value_count":
            return value_update(current, hit, spec, lateness=lateness, reset=options.after_fire == "reset")
        if spec.type == "temporal":
            return temporal_update(current, hit, spec, lateness=lateness)
        if spec.type == "temporal_ordered":
            return ordered_update(current, hit, spec, lateness=lateness)
        if spec.type == "sequence":
            return sequence_update(current, hit, spec, lateness=lateness)
        return new_terms_update(current, hit, spec)

    def _expire_one(
        self, correlation: CompiledCorrelation, current: dict[str, Any], watermark: float
    ) -> Outcome:
        spec = correlation.spec
        if spec.type in ("event_count", "value_count"):
            return count_expire(current, watermark, spec)
        if spec.type == "sequence":
            return sequence_expire(
                current, watermark, spec, lateness=correlation.meta.options.allowed_lateness
            )
        if spec.type == "new_terms":
            return new_terms_expire(current, watermark, spec)
        return ttl_expire(current, watermark)

    def _fired(
        self,
        correlation: CompiledCorrelation,
        firing: Firing,
        group: dict[str, str],
        tenant: str,
        view: EventView | None,
        state: StateStore,
        result: EngineResult,
        work: deque[_Work],
    ) -> None:
        finding = self._finding(correlation, firing, group, tenant, view)
        if correlation.emits:
            self._emit(correlation.meta, finding, view, state, result)
        if self.ruleset.consumers(correlation.key):
            last_id = firing.event_ids[-1] if firing.event_ids else f"{correlation.key}@{firing.end}"
            sample = firing.evidence[-1] if firing.evidence else {}
            correlation_id = firing.correlation_ids[-1] if firing.correlation_ids else None
            work.append(
                _Work(correlation.key, view, tenant, firing.end, last_id, correlation_id, sample, dict(group))
            )

    def _group(self, correlation: CompiledCorrelation, item: _Work) -> dict[str, str]:
        spec = correlation.spec
        group: dict[str, str] = {}
        for name in spec.group_by:
            path = spec.aliases.get(name, {}).get(item.rule, name)
            value: Any = None
            if item.hint is not None:
                value = item.hint.get(path, item.hint.get(name))
            if value is None and item.view is not None:
                value = item.view.value(path)
            group[name] = _text(value)
        return group

    def _value(self, correlation: CompiledCorrelation, item: _Work) -> str | None:
        spec = correlation.spec
        if not spec.value_fields:
            return None
        parts = []
        for name in spec.value_fields:
            path = spec.aliases.get(name, {}).get(item.rule, name)
            value: Any = None
            if item.hint is not None:
                value = item.hint.get(path)
            if value is None and item.view is not None:
                value = item.view.value(path)
            if value is None or value == "":
                return None
            parts.append(_text(value))
        return parts[0] if len(parts) == 1 else json.dumps(parts)

    def _time(self, meta: RuleMeta, item: _Work) -> float:
        path = meta.options.time_field
        if path == "time" or item.view is None:
            return item.time
        moment = as_time(item.view.value(path))
        return item.time if moment is None else moment.timestamp()

    # -- state ------------------------------------------------------------------

    def _load(self, correlation: CompiledCorrelation, key: str, state: StateStore) -> dict[str, Any] | None:
        current = state.get(key)
        if not isinstance(current, dict) or current.get("fp") != correlation.state_id:
            return None  # none yet, or left by an earlier version of this correlation
        return {k: v for k, v in current.items() if k != "fp"}

    def _store(
        self, correlation: CompiledCorrelation, key: str, value: dict[str, Any] | None, state: StateStore
    ) -> None:
        if value is None:
            if state.get(key) is not None:
                del state[key]
            self._timers.set(key, None)
            return
        state[key] = {**value, "fp": correlation.state_id}
        self._timers.set(key, value.get("due"))

    def _advance(self, time: float, state: StateStore, result: EngineResult) -> None:
        if self.watermark is None or time > self.watermark:
            self.watermark = time
        if self._since_scan is None or self._since_scan >= RESCAN_EVERY:
            self._rescan(state)
        self._since_scan = (self._since_scan or 0) + 1
        watermark = self.watermark
        work: deque[_Work] = deque()
        for key in self._timers.pop_due(watermark):
            self._expire_key(key, watermark, state, result, work)
        self._correlate(work, state, result)

    def _rescan(self, state: StateStore) -> None:
        for key, value in list(state.items()):
            if isinstance(value, dict) and value.get("due") is not None:
                self._timers.set(str(key), float(value["due"]))
        self._since_scan = 0

    def _expire_key(
        self, key: str, watermark: float, state: StateStore, result: EngineResult, work: deque[_Work]
    ) -> None:
        current = state.get(key)
        if not isinstance(current, dict):
            return
        if key.startswith(SUPPRESS_PREFIX):
            if watermark >= current.get("due", 0):
                del state[key]
            return
        found = self._owner(key)
        if found is None:
            del state[key]  # a rule that no longer exists
            return
        correlation, tenant, group = found
        if current.get("fp") != correlation.state_id:
            del state[key]  # left by an earlier version of the correlation
            return
        outcome = self._expire_one(correlation, {k: v for k, v in current.items() if k != "fp"}, watermark)
        self._store(correlation, key, outcome.state, state)
        for firing in outcome.firings:
            self._fired(correlation, firing, group, tenant, None, state, result, work)

    def _owner(self, key: str) -> tuple[CompiledCorrelation, str, dict[str, str]] | None:
        candidates = [self._correlations.get(key.split("|", 1)[0])]
        candidates += [c for k, c in self._correlations.items() if key.startswith(f"{k}|")]
        for correlation in candidates:
            if correlation is None:
                continue
            rest = key[len(correlation.key) + 1 :]
            tenant, _, group_text = rest.partition("|")
            try:
                group = json.loads(group_text)
            except ValueError:
                continue
            if isinstance(group, dict):
                return correlation, tenant, {str(k): str(v) for k, v in group.items()}
        return None

    # -- findings ---------------------------------------------------------------

    def _emit(
        self,
        meta: RuleMeta,
        finding: Finding,
        view: EventView | None,
        state: StateStore,
        result: EngineResult,
    ) -> None:
        suppression = meta.options.suppress
        if suppression is not None:
            by = suppression.by or sorted(finding.group)
            values = [finding.group.get(f) or (_text(view.value(f)) if view is not None else "") for f in by]
            key = SUPPRESS_PREFIX + json.dumps([meta.key, finding.tenant_id, values], separators=(",", ":"))
            moment = finding.last_seen.timestamp()
            held = state.get(key)
            if isinstance(held, dict) and moment < held.get("due", 0):
                result.suppressed.append(meta.key)
                return
            until = moment + suppression.for_
            state[key] = {"due": until}
            self._timers.set(key, until)
        result.findings.append(finding)

    def _finding(
        self,
        correlation: CompiledCorrelation,
        firing: Firing,
        group: dict[str, str],
        tenant: str,
        view: EventView | None,
    ) -> Finding:
        meta = correlation.meta
        start = datetime.fromtimestamp(firing.start, tz=UTC)
        end = datetime.fromtimestamp(firing.end, tz=UTC)
        threshold = _threshold(correlation)
        title, summary = _texts(
            meta,
            view,
            {
                **group,
                "count": firing.count,
                "detail": firing.detail,
                "threshold": threshold,
                "first_seen": start.isoformat(),
                "last_seen": end.isoformat(),
            },
        )
        return Finding(
            rule_id=correlation.key,
            rule_title=title,
            description=meta.description,
            severity=meta.severity,
            tenant_id=tenant,
            group=group,
            count=max(1, firing.count),
            threshold=threshold,
            window_start=start,
            window_end=end,
            first_seen=start,
            last_seen=end,
            event_ids=tuple(firing.event_ids[-MAX_EVIDENCE_IDS:]),
            correlation_ids=tuple(firing.correlation_ids[:MAX_EVIDENCE_IDS]),
            evidence=tuple(firing.evidence),
            tags=meta.tags,
            labels=labels_for(meta.tags, meta.options.labels),
            summary=summary,
            detail=firing.detail,
        )


def _admits(detection: CompiledDetection, view: EventView) -> bool:
    from detectors.rules.logsource import logsource_matches

    return logsource_matches(detection.logsource, view.event) and detection.matches(view)


def _threshold(correlation: CompiledCorrelation) -> str | None:
    spec = correlation.spec
    span = format_timespan(spec.timespan)
    operators = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "==", "neq": "!="}
    if spec.type == "event_count":
        return f"{operators[spec.op]} {spec.count} in {span}"
    if spec.type == "value_count":
        return f"{operators[spec.op]} {spec.count} distinct {', '.join(spec.value_fields)} in {span}"
    if spec.type in ("temporal", "temporal_ordered"):
        order = " in order" if spec.type == "temporal_ordered" else ""
        return f"{len(spec.rules)} rules{order} in {span}"
    if spec.type == "sequence":
        return f"sequence of {len(spec.steps)} steps in {span}"
    return f"new {', '.join(spec.value_fields)} (history {span})"


def _texts(meta: RuleMeta, view: EventView | None, known: dict[str, Any]) -> tuple[str, str | None]:
    template = meta.options.output
    if template is None:
        return meta.title, None
    facts = {"rule": meta.key, "title": meta.title, "severity": meta.severity.label, **known}
    lookup = None if view is None else view.value
    title = render(template.title, facts, lookup) if template.title else meta.title
    summary = render(template.summary, facts, lookup) if template.summary else None
    return title, summary


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _single_event_finding(detection: CompiledDetection, view: EventView) -> Finding:
    event = view.event
    meta = detection.meta
    title, summary = _texts(meta, view, {"count": 1, "actor.id": event.actor.id})
    return Finding(
        rule_id=detection.key,
        rule_title=title,
        description=meta.description,
        severity=meta.severity,
        tenant_id=event.tenant_id,
        group={"actor.id": event.actor.id},
        count=1,
        window_start=event.time,
        window_end=event.time,
        first_seen=event.time,
        last_seen=event.time,
        event_ids=(event.event_id,),
        correlation_ids=(event.correlation_id,) if event.correlation_id else (),
        evidence=(evidence_sample(event),),
        tags=meta.tags,
        labels=labels_for(meta.tags, meta.options.labels),
        summary=summary,
    )
