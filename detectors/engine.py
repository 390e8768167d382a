"""The rule engine: one event in, findings out, with window state kept outside.

State lives in a ``MutableMapping`` the caller owns: a plain dict in replay and
tests, a changelog-backed Faust table in the worker. That keeps this module
free of Kafka and lets a restarted worker continue counting where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detectors.events import AuditEvent, field_value
from detectors.findings import Finding, evidence_sample
from detectors.rules import CompiledCorrelation, CompiledDetection, RuleSet
from detectors.rules.event_count import update
from detectors.rules.logsource import logsource_matches
from detectors.rules.timespan import format_timespan

__all__ = ["EngineResult", "RuleEngine", "StateStore", "state_key"]

StateStore = MutableMapping[str, Any]


@dataclass
class EngineResult:
    findings: list[Finding] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    late_for: list[str] = field(default_factory=list)
    """Correlations that did not count this event because it arrived too late."""


def state_key(correlation: CompiledCorrelation, tenant_id: str, group: dict[str, str]) -> str:
    """The key of one group's window state: stable across restarts and rule reloads."""
    return f"{correlation.key}|{tenant_id}|{json.dumps(group, sort_keys=True, separators=(',', ':'))}"


class RuleEngine:
    """Evaluates a rule set over events, one at a time, in any order of event time."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._correlations = {d.key: ruleset.correlations_of(d.key) for d in ruleset.detections}
        for detection in ruleset.detections:
            if detection.doc.id and detection.doc.id != detection.key:
                self._correlations[detection.key] += ruleset.correlations_of(detection.doc.id)

    def evaluate(self, event: AuditEvent, state: StateStore) -> EngineResult:
        result = EngineResult()
        counted: set[str] = set()
        for detection in self.ruleset.detections:
            if not logsource_matches(detection.doc.logsource, event) or not detection.predicate(event):
                continue
            result.matched_rules.append(detection.key)
            if detection.emits:
                result.findings.append(_single_event_finding(detection, event))
            for correlation in self._correlations[detection.key]:
                if correlation.key in counted:
                    continue  # an event matching two of its rules counts once
                counted.add(correlation.key)
                finding = self._count(correlation, event, state, result)
                if finding is not None:
                    result.findings.append(finding)
        return result

    def _count(
        self,
        correlation: CompiledCorrelation,
        event: AuditEvent,
        state: StateStore,
        result: EngineResult,
    ) -> Finding | None:
        spec = correlation.doc.correlation
        group = {name: _group_value(event, name) for name in spec.group_by}
        key = state_key(correlation, event.tenant_id, group)
        outcome = update(
            state.get(key),
            time=event.epoch,
            event_id=event.event_id,
            correlation_id=event.correlation_id,
            evidence=evidence_sample(event),
            timespan=spec.timespan,
            threshold=spec.threshold,
            allowed_lateness=correlation.doc.x_auditwatch.allowed_lateness,
        )
        if outcome.late:
            result.late_for.append(correlation.key)
            return None
        state[key] = outcome.state
        crossing = outcome.crossing
        if crossing is None:
            return None
        start = datetime.fromtimestamp(crossing.start, tz=UTC)
        end = datetime.fromtimestamp(crossing.end, tz=UTC)
        operator = ">=" if "gte" in spec.condition else ">"
        return Finding(
            rule_id=correlation.key,
            rule_title=correlation.doc.title,
            description=correlation.doc.description,
            severity=correlation.severity,
            tenant_id=event.tenant_id,
            group=group,
            count=crossing.count,
            threshold=f"{operator} {next(iter(spec.condition.values()))} in {format_timespan(spec.timespan)}",
            window_start=start,
            window_end=end,
            first_seen=start,
            last_seen=end,
            event_ids=tuple(crossing.event_ids),
            correlation_ids=tuple(crossing.correlation_ids),
            evidence=tuple(crossing.evidence),
            tags=tuple(correlation.doc.tags),
        )


def _group_value(event: AuditEvent, name: str) -> str:
    value = field_value(event, name)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _single_event_finding(detection: CompiledDetection, event: AuditEvent) -> Finding:
    return Finding(
        rule_id=detection.key,
        rule_title=detection.doc.title,
        description=detection.doc.description,
        severity=detection.severity,
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
        tags=tuple(detection.doc.tags),
    )
