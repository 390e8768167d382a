"""The rule engine over events, with state in a plain dict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset

REPO = Path(__file__).resolve().parents[2]


def login(i: int, second: int, actor: str = "alice", outcome: str = "failure", **extra: Any) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"{actor}-{i}",
            "time": f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}Z",
            "actor": {"id": actor},
            "action": "login",
            "category": "authentication",
            "outcome": outcome,
            "source": {"ip": "203.0.113.7"},
            "origin": {"system": "acme.sso"},
            "correlation_id": f"req-{i}",
            **extra,
        }
    )


def engine() -> RuleEngine:
    return RuleEngine(load_ruleset([REPO / "config" / "rules"]))


def test_five_failures_of_one_actor_in_a_minute_make_one_finding() -> None:
    rules, state = engine(), {}
    findings = [f for i in range(8) for f in rules.evaluate(login(i, i * 5), state).findings]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.rule_id == "failed_login_burst"
    assert finding.group == {"actor.id": "alice"}
    assert finding.count == 5
    assert finding.event_ids == tuple(f"alice-{i}" for i in range(5))
    assert finding.correlation_ids == tuple(sorted(f"req-{i}" for i in range(5)))
    assert finding.threshold == ">= 5 in 1m"
    assert finding.severity.label == "high"


def test_actors_are_counted_apart_and_successes_do_not_count() -> None:
    rules, state = engine(), {}
    events = [login(i, i, actor="alice" if i % 2 else "bob") for i in range(8)]
    events += [login(100 + i, 10 + i, outcome="success") for i in range(5)]
    assert [f for e in events for f in rules.evaluate(e, state).findings] == []


def test_state_survives_a_json_round_trip_as_a_changelog_would() -> None:
    rules, state = engine(), {}
    for i in range(3):
        rules.evaluate(login(i, i), state)
    restored = json.loads(json.dumps(state))
    findings = [f for i in range(3, 5) for f in rules.evaluate(login(i, i), restored).findings]
    assert len(findings) == 1 and findings[0].count == 5
