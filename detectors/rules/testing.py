"""Tests written inside rule files, run with the real engine and no services.

```yaml
x-auditwatch:
  tests:
    - name: a failed console login matches
      event: {action: ConsoleLogin, outcome: failure, category: authentication}
      expect: match
    - name: five failures in a minute alert once
      timeline:
        - at: 0s
          event: {action: login, outcome: failure, category: authentication, actor: {id: alice}}
          repeat: 5
          every: 10s
      expect:
        - {at: 40s, count: 5, group: {actor.id: alice}}
```

A single-event test passes when the rule matches the event (``match``) or
does not (``no_match``); for a correlation, "matches" means the event counts
towards it. A timeline test plays its events (at offsets from a fixed start,
``repeat`` times ``every`` period) through a fresh engine and compares the
rule's alerts, in order, with ``expect``: ``at`` is the alert's last event,
``count`` and ``group`` must be equal, and an expected alert may name another
``rule``. ``until`` moves event time on at the end, so that absences and
windows judged at their end can close.

An ``event`` is a canonical event with defaults for what a test leaves out; a
``record`` is a source record (CloudTrail, Okta...) that the caller's
``adapt`` function turns into events, as ingest would.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from pydantic import ValidationError

from detectors.engine import RuleEngine
from detectors.events import AuditEvent, Severity
from detectors.findings import Finding
from detectors.rules.model import RuleTest, TimelineEntry
from detectors.rules.ruleset import CompiledCorrelation, CompiledDetection, RuleSet

__all__ = [
    "TEST_START",
    "Adapt",
    "CaseOutcome",
    "flagged_finding",
    "junit_xml",
    "make_event",
    "run_rule_tests",
]

Adapt = Callable[[Any], list[AuditEvent]]
TEST_START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CaseOutcome:
    rule: str
    name: str
    file: str
    line: int
    passed: bool
    message: str = ""
    seconds: float = 0.0


def make_event(fields: dict[str, Any], *, event_id: str, at: datetime) -> AuditEvent:
    """A canonical event from a test's partial description."""
    data: dict[str, Any] = {
        "event_id": event_id,
        "time": at.isoformat(),
        "actor": {"id": "test-user"},
        "action": "test",
        "origin": {"system": "test"},
    }
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return AuditEvent.model_validate(data)


def run_rule_tests(
    ruleset: RuleSet, adapt: Adapt | None = None, *, only: set[str] | None = None
) -> list[CaseOutcome]:
    """Every test of every rule (or of the rules whose key is in ``only``)."""
    outcomes: list[CaseOutcome] = []
    shared = RuleEngine(ruleset)
    for rule in ruleset.rules:
        if only is not None and rule.key not in only:
            continue
        for index, test in enumerate(rule.meta.options.tests):
            line = rule.meta.document.line_of(("x-auditwatch", "tests", index))
            started = clock.perf_counter()
            try:
                if test.is_timeline:
                    message = _timeline(ruleset, rule, test, adapt)
                else:
                    message = _single(shared, rule, test, adapt)
            except (ValueError, ValidationError) as exc:
                message = f"the test cannot run: {exc}"
            outcomes.append(
                CaseOutcome(
                    rule.key,
                    test.name,
                    rule.meta.file,
                    line,
                    message == "",
                    message,
                    clock.perf_counter() - started,
                )
            )
    return outcomes


def _events(
    fields: dict[str, Any] | None, record: Any, adapt: Adapt | None, *, event_id: str, at: datetime
) -> list[AuditEvent]:
    if fields is not None:
        return [make_event(fields, event_id=event_id, at=at)]
    if adapt is None:
        raise ValueError("'record' needs the input adapters; run it with `auditwatch rules test`")
    events = adapt(record)
    if not events:
        raise ValueError("the record yields no event")
    return events


def _single(
    engine: RuleEngine, rule: CompiledDetection | CompiledCorrelation, test: RuleTest, adapt: Adapt | None
) -> str:
    events = _events(test.event, test.record, adapt, event_id=f"test-{test.name}", at=TEST_START)
    matched = any(_counts_towards(engine, rule, event) for event in events)
    if matched == (test.expect == "match"):
        return ""
    what = "matched" if matched else "did not match"
    return f"expected {test.expect}, but the rule {what} the event"


def _counts_towards(
    engine: RuleEngine, rule: CompiledDetection | CompiledCorrelation, event: AuditEvent
) -> bool:
    if isinstance(rule, CompiledDetection):
        return engine.matches(rule.key, event)
    return any(engine.matches(d, event) for d in _feeding(engine.ruleset, rule.key))


def _feeding(ruleset: RuleSet, key: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The detection rules whose matches reach the correlation ``key``, directly or through others."""
    found: set[str] = set()
    rule = ruleset.get(key)
    if not isinstance(rule, CompiledCorrelation):
        return found
    for used in rule.spec.rules:
        if used in seen:
            continue
        target = ruleset.get(used)
        if isinstance(target, CompiledDetection):
            found.add(target.key)
        elif target is not None:
            found |= _feeding(ruleset, target.key, seen | {key})
    return found


def _timeline(
    ruleset: RuleSet, rule: CompiledDetection | CompiledCorrelation, test: RuleTest, adapt: Adapt | None
) -> str:
    engine = RuleEngine(ruleset)
    state: dict[str, Any] = {}
    findings: list[Finding] = []
    for event, detector in _timeline_events(test.timeline or [], test.name, adapt):
        findings.extend(engine.evaluate(event, state).findings)
        if detector is not None:
            findings.extend(engine.observe(flagged_finding(detector, event), event, state))
    if test.until is not None:
        findings.extend(engine.advance(state, TEST_START.timestamp() + test.until))
    assert isinstance(test.expect, list)
    names = {e.rule or rule.key for e in test.expect} or {rule.key}
    actual = [f for f in findings if f.rule_id in names]
    problems = []
    if len(actual) != len(test.expect):
        problems.append(f"expected {len(test.expect)} alert(s), got {len(actual)}")
    for number, (wanted, got) in enumerate(zip(test.expect, actual, strict=False), start=1):
        at = (got.last_seen - TEST_START).total_seconds()
        if wanted.rule is not None and got.rule_id != wanted.rule:
            problems.append(f"alert {number}: rule {got.rule_id}, expected {wanted.rule}")
        if wanted.at is not None and at != wanted.at:
            problems.append(f"alert {number}: at {at:g}s, expected {wanted.at}s")
        if wanted.count is not None and got.count != wanted.count:
            problems.append(f"alert {number}: count {got.count}, expected {wanted.count}")
        if wanted.group is not None and got.group != wanted.group:
            problems.append(f"alert {number}: group {got.group}, expected {wanted.group}")
    if problems:
        seen = "; ".join(_describe(f) for f in actual) or "none"
        return f"{', '.join(problems)} (alerts: {seen})"
    return ""


def _describe(finding: Finding) -> str:
    at = (finding.last_seen - TEST_START).total_seconds()
    return f"{finding.rule_id} at {at:g}s count {finding.count} group {finding.group}"


def flagged_finding(detector: str, event: AuditEvent) -> Finding:
    """What the detector reports when it flags ``event`` (a test's ``flagged_by``)."""
    return Finding(
        rule_id=detector,
        rule_title=detector,
        severity=Severity.MEDIUM,
        tenant_id=event.tenant_id,
        count=1,
        window_start=event.time,
        window_end=event.time,
        first_seen=event.time,
        last_seen=event.time,
        event_ids=(event.event_id,),
    )


def _timeline_events(
    entries: list[TimelineEntry], name: str, adapt: Adapt | None
) -> list[tuple[AuditEvent, str | None]]:
    """The timeline's events in time order, each with the detector that flags it, if any."""
    timed: list[tuple[float, int, AuditEvent, str | None]] = []
    sequence = 0
    for number, entry in enumerate(entries):
        for repeat in range(entry.repeat):
            offset = entry.at + repeat * entry.every
            at = datetime.fromtimestamp(TEST_START.timestamp() + offset, tz=UTC)
            event_id = f"{name}-{number}-{repeat}"
            for part, event in enumerate(_events(entry.event, entry.record, adapt, event_id=event_id, at=at)):
                if entry.record is not None:
                    event = event.model_copy(update={"time": at, "event_id": f"{event_id}-{part}"})
                timed.append((offset, sequence, event, entry.flagged_by))
                sequence += 1
    return [(event, flag) for _, _, event, flag in sorted(timed, key=lambda item: (item[0], item[1]))]


def junit_xml(outcomes: list[CaseOutcome]) -> bytes:
    """The outcomes as a JUnit XML report (one testsuite per rule file)."""
    suites = ElementTree.Element("testsuites", name="auditwatch rules")
    by_file: dict[str, list[CaseOutcome]] = {}
    for outcome in outcomes:
        by_file.setdefault(outcome.file, []).append(outcome)
    for file, listed in by_file.items():
        failures = sum(1 for o in listed if not o.passed)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=file,
            tests=str(len(listed)),
            failures=str(failures),
            errors="0",
            time=f"{sum(o.seconds for o in listed):.3f}",
        )
        for outcome in listed:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=outcome.rule,
                name=outcome.name,
                file=outcome.file,
                line=str(outcome.line),
                time=f"{outcome.seconds:.3f}",
            )
            if not outcome.passed:
                failure = ElementTree.SubElement(case, "failure", message=outcome.message)
                failure.text = f"{outcome.file}:{outcome.line}: {outcome.message}"
    suites.set("tests", str(len(outcomes)))
    suites.set("failures", str(sum(1 for o in outcomes if not o.passed)))
    report: bytes = ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
    return report
