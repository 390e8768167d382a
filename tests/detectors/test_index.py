"""The rule index narrows the rules tested per event without changing any verdict."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bench.bench_rules import make_events, ruleset_of, without_index
from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from detectors.rules.fields import EventView
from detectors.rules.index import RuleIndex

REPO = Path(__file__).resolve().parents[2]


def library_events(count: int) -> list[AuditEvent]:
    rng = random.Random(5)
    actions = [
        "ConsoleLogin",
        "StopLogging",
        "GetObject",
        "user.session.start",
        "create",
        "list",
        "repo.destroy",
    ]
    systems = ["aws.cloudtrail", "okta", "k8s.audit", "github.audit", "linux.sshd", "acme.app"]
    events = []
    for i in range(count):
        events.append(
            AuditEvent.model_validate(
                {
                    "event_id": f"e{i}",
                    "time": 1_767_225_600 + i,
                    "actor": {
                        "id": rng.choice(["alice", "bob", "root"]),
                        "type": rng.choice(["human", "service"]),
                    },
                    "action": rng.choice(actions),
                    "category": rng.choice(["authentication", "authorization", "api_activity", "other"]),
                    "outcome": rng.choice(["success", "failure"]),
                    "resource": {"type": rng.choice(["pods/exec", "secrets", "events", "configmaps"])},
                    "origin": {"system": rng.choice(systems)},
                    "raw": {
                        "userIdentity": {"type": rng.choice(["Root", "IAMUser"])},
                        "message": "Corrupted MAC",
                    },
                }
            )
        )
    return events


def verdicts(engine: RuleEngine, events: list[AuditEvent]) -> list[list[str]]:
    state: dict[str, Any] = {}
    return [sorted(engine.evaluate(event, state).matched_rules) for event in events]


def test_the_index_changes_no_verdict_on_the_library(tmp_path: Path) -> None:
    ruleset = load_ruleset([REPO / "config" / "rules"])
    events = library_events(2000)
    assert verdicts(RuleEngine(ruleset), events) == verdicts(without_index(ruleset), events)


def test_the_index_changes_no_verdict_on_a_thousand_generated_rules(tmp_path: Path) -> None:
    ruleset = ruleset_of(1000, tmp_path)
    events = make_events(3000, rules=1000)
    indexed = verdicts(RuleEngine(ruleset), events)
    assert indexed == verdicts(without_index(ruleset), events)
    assert sum(1 for v in indexed if v) > 500


def test_most_generated_rules_are_narrowed_and_few_are_tested_per_event(tmp_path: Path) -> None:
    ruleset = ruleset_of(1000, tmp_path)
    index = RuleIndex(ruleset.detections)
    assert index.anchored == len(ruleset.detections)
    tested = [len(index.candidates(EventView(e))) for e in make_events(1000, rules=1000)]
    assert sum(tested) / len(tested) < 3
