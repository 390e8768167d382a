"""The shipped rule fires on a burst of denied API calls, from the API's own audit events.

The events take the path they take in the worker: built by the API, written
as JSON, accepted by ingest (the native format), evaluated by the rule engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, accept_record
from tests.api.conftest import CLIENT_IP, Api

RULES = Path(__file__).resolve().parents[2] / "config" / "rules" / "auditwatch_api_denied.yml"


def through_ingest(events: list[AuditEvent]) -> list[AuditEvent]:
    accepted: list[AuditEvent] = []
    for event in events:
        outcome = accept_record(event.model_dump_json().encode(), default_registry(), FormatContext())
        assert isinstance(outcome, Accepted), outcome
        accepted.extend(outcome.events)
    return accepted


def findings(events: list[AuditEvent]) -> list[tuple[str, dict[str, str], int]]:
    engine, state = RuleEngine(load_ruleset([RULES])), dict[str, Any]()
    found = [f for event in events for f in engine.evaluate(event, state).findings]
    return [(f.rule_id, dict(f.group), f.count) for f in found]


async def test_twelve_calls_without_a_token_fire_both_bursts_once(api: Api) -> None:
    for _ in range(12):
        assert (await api.client.get("/api/v1/alerts")).status_code == 401
    assert findings(through_ingest(api.emitted)) == [
        ("auditwatch_api_denied_burst_actor", {"actor.id": "anonymous"}, 10),
        ("auditwatch_api_denied_burst_source", {"source.ip": CLIENT_IP}, 10),
    ]


async def test_a_viewer_probing_admin_endpoints_is_named(api: Api) -> None:
    for number in range(10):
        answer = await api.client.post(
            "/api/v1/tokens", headers=api.auth("viewer"), json={"role": "admin", "name": f"x{number}"}
        )
        assert answer.status_code == 403
    assert ("auditwatch_api_denied_burst_actor", {"actor.id": "viewer-1"}, 10) in findings(api.emitted)


async def test_allowed_calls_and_not_found_answers_do_not_count(api: Api) -> None:
    for _ in range(12):
        assert (await api.client.get("/api/v1/alerts", headers=api.auth("viewer"))).status_code == 200
        assert (await api.client.get("/api/v1/alerts/nope", headers=api.auth("viewer"))).status_code == 404
    assert findings(through_ingest(api.emitted)) == []


async def test_nine_denials_do_not_alert(api: Api) -> None:
    for _ in range(9):
        assert (await api.client.delete("/api/v1/tokens/x", headers=api.auth("responder"))).status_code == 403
    assert findings(api.emitted) == []
