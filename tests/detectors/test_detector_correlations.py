"""Detector findings feeding rule correlations: the shipped "anomalous login, then admin grant".

The engine's ``observe`` takes a finding an anomaly detector produced and feeds the
correlations that name the detector, like a rule's match. The findings here are
built as ``actor_behaviour`` builds them (rule_id = the detector's name, group =
its group-by); tests/pipeline/test_detector_correlations_pipeline.py runs a real
``ModelSet`` through ``Stages``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from detectors.engine import RuleEngine
from detectors.errors import RuleLoadError
from detectors.events import AuditEvent, Severity
from detectors.findings import Finding
from detectors.rules import load_ruleset
from detectors.rules.testing import flagged_finding

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = REPO / "config" / "rules" / "anomalous_login_then_admin_grant.yml"
RULE = "anomalous_login_then_admin_grant"
T0 = datetime(2026, 3, 2, 3, 12, tzinfo=UTC)


def event(
    event_id: str, minutes: float, action: str, actor: str = "alice", system: str = "okta"
) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": event_id,
            "time": (T0 + timedelta(minutes=minutes)).isoformat(),
            "tenant_id": "acme",
            "actor": {"id": actor, "type": "human"},
            "action": action,
            "outcome": "success",
            "origin": {"system": "okta"},
        }
    )


def anomaly(on: AuditEvent) -> Finding:
    """A behaviour finding on ``on``, grouped as the behaviour runner groups it."""
    return flagged_finding("actor_behaviour", on).model_copy(update={"group": {"actor.id": on.actor.id}})


@pytest.fixture
def engine() -> RuleEngine:
    return RuleEngine(load_ruleset([RULE_FILE], detectors=["actor_behaviour"]))


def run(engine: RuleEngine, steps: list[tuple[AuditEvent, bool]]) -> list[Finding]:
    """Each event through the rules, then (when flagged) its anomaly through ``observe``."""
    state: dict[str, Any] = {}
    findings: list[Finding] = []
    for item, flagged in steps:
        findings += engine.evaluate(item, state).findings
        if flagged:
            findings += engine.observe(anomaly(item), item, state)
    return [f for f in findings if f.rule_id == RULE]


def grant(event_id: str, minutes: float, actor: str = "alice") -> AuditEvent:
    return event(event_id, minutes, "user.account.privilege.grant", actor)


def test_an_anomalous_login_then_an_admin_grant_within_30_minutes_fires_once_at_high(
    engine: RuleEngine,
) -> None:
    login = event("login-1", 0, "user.session.start")
    found = run(engine, [(login, True), (grant("grant-1", 12), False)])
    assert len(found) == 1
    assert found[0].severity == Severity.HIGH
    assert found[0].group == {"actor.id": "alice"}
    assert found[0].event_ids == ("login-1", "grant-1")


def test_only_the_anomaly_or_only_the_grant_does_not_fire(engine: RuleEngine) -> None:
    assert run(engine, [(event("login-1", 0, "user.session.start"), True)]) == []
    assert run(engine, [(event("login-1", 0, "user.session.start"), False), (grant("g", 5), False)]) == []


def test_a_grant_more_than_30_minutes_later_does_not_fire(engine: RuleEngine) -> None:
    assert run(engine, [(event("login-1", 0, "user.session.start"), True), (grant("g", 31), False)]) == []


def test_the_grant_before_the_anomaly_does_not_fire(engine: RuleEngine) -> None:
    assert run(engine, [(grant("g", 0), False), (event("login-1", 5, "user.session.start"), True)]) == []


def test_a_grant_by_another_actor_does_not_fire(engine: RuleEngine) -> None:
    login = event("login-1", 0, "user.session.start")
    assert run(engine, [(login, True), (grant("g", 5, actor="mallory"), False)]) == []


def test_a_finding_of_a_detector_no_correlation_names_is_ignored(engine: RuleEngine) -> None:
    login = event("login-1", 0, "user.session.start")
    other = anomaly(login).model_copy(update={"rule_id": "service_rate"})
    assert engine.observe(other, login, {}) == []


def test_the_shipped_rules_need_the_detector_names_and_find_them_beside_the_rules() -> None:
    with pytest.raises(
        RuleLoadError, match=r"anomalous_login_then_admin_grant\.yml:\d+: .*'actor_behaviour'"
    ):
        load_ruleset([REPO / "config" / "rules"], detectors=[])
    ruleset = load_ruleset([REPO / "config" / "rules"], detectors=["actor_behaviour"])
    assert load_ruleset([REPO / "config" / "rules"]).consumers("actor_behaviour")
    correlation = ruleset.get(RULE)
    assert correlation is not None and correlation.emits
    assert [c.key for c in ruleset.consumers("actor_behaviour")] == [RULE]
    helper = ruleset.get("admin_privilege_granted")
    assert helper is not None and not helper.emits  # the grant alone alerts through privilege.yml


def test_an_unknown_detector_name_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    text = RULE_FILE.read_text().replace("    - actor_behaviour\n", "    - actor_behavior\n")
    path = tmp_path / "typo.yml"
    path.write_text(text)
    line = text.splitlines().index("    - actor_behavior") + 1
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([path], detectors=["actor_behaviour", "service_rate"])
    problems = [str(p) for p in caught.value.problems]
    assert problems == [p for p in problems if p.startswith(f"{path}:{line}: ")], problems
    assert "'actor_behavior'" in problems[0] and "actor_behaviour" in problems[0]


def test_an_override_cannot_target_a_detector(tmp_path: Path) -> None:
    path = tmp_path / "override.yml"
    path.write_text(
        "override: actor_behaviour\nexceptions:\n  - name: x\n    field: actor.id\n    values: [a]\n"
    )
    with pytest.raises(RuleLoadError, match="no rule named 'actor_behaviour'"):
        load_ruleset([path], detectors=["actor_behaviour"])
