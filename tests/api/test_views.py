"""Rules, trends and health views, from the alert book and a metrics registry of the test's own;
and the OpenAPI document listing every path of the contract."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openapi_spec_validator import validate
from prometheus_client import CollectorRegistry, Counter, Gauge

from detectors.rules import load_ruleset
from pipeline.api.alertbook import AlertBook
from pipeline.api.views import RateMeter, health_view, rules_view, trends_view
from tests.api.conftest import Api, sample_alert

RULES = Path(__file__).resolve().parents[2] / "config" / "rules" / "auditwatch_api_denied.yml"

CONTRACT_PATHS = {
    "/api/v1/livez",
    "/api/v1/whoami",
    "/api/v1/alerts",
    "/api/v1/alerts/{alert_id}",
    "/api/v1/alerts/{alert_id}/ack",
    "/api/v1/alerts/{alert_id}/resolve",
    "/api/v1/silences",
    "/api/v1/silences/{silence_id}",
    "/api/v1/rules",
    "/api/v1/trends",
    "/api/v1/health",
    "/api/v1/archive/checkpoints",
    "/api/v1/archive/proof/{event_id}",
    "/api/v1/access/review",
    "/api/v1/audit",
    "/api/v1/tokens",
    "/api/v1/tokens/{token_id}",
    "/metrics",
}


def test_rules_with_their_hit_counts() -> None:
    registry = CollectorRegistry()
    matches = Counter("auditwatch_rule_matches_total", "", ["rule"], registry=registry)
    alerts = Counter("auditwatch_alerts_total", "", ["rule", "severity"], registry=registry)
    matches.labels(rule="auditwatch_api_denied").inc(12)
    alerts.labels(rule="auditwatch_api_denied_burst_actor", severity="high").inc()
    rows = {row["id"]: row for row in rules_view(load_ruleset([RULES]), registry)}
    assert rows["auditwatch_api_denied"] == {
        "id": "auditwatch_api_denied",
        "title": "Denied auditwatch API call",
        "level": "low",
        "kind": "detection",
        "status": "stable",
        "matches": 12,
        "alerts": 0,
    }
    assert rows["auditwatch_api_denied_burst_actor"]["kind"] == "event_count"
    assert rows["auditwatch_api_denied_burst_actor"]["alerts"] == 1


def test_trends_bucket_alerts_by_hour_and_count_sources_and_entities() -> None:
    book = AlertBook()
    for number, rule, severity in [(1, "a", "high"), (2, "a", "low"), (3, "b", "high"), (90, "a", "high")]:
        book.add(sample_alert(number, rule=rule, severity=severity))  # fired 09:31, 09:32, 09:33, 11:00
    registry = CollectorRegistry()
    sources = Counter("auditwatch_events_by_source_total", "", ["source"], registry=registry)
    sources.labels(source="okta").inc(5)
    view = trends_view(book, 2, datetime(2026, 11, 28, 10, 15, tzinfo=UTC), registry)
    assert view["alerts_over_time"] == [
        {
            "start": "2026-11-28T09:00:00+00:00",
            "by_severity": {"high": 2, "low": 1},
            "by_rule": {"a": 2, "b": 1},
        },
        {"start": "2026-11-28T10:00:00+00:00", "by_severity": {}, "by_rule": {}},
    ]
    assert view["events_by_source"] == {"okta": 5}
    assert view["top_entities"] == [
        {"entity": "actor.id=user1", "alerts": 1},
        {"entity": "actor.id=user2", "alerts": 1},
        {"entity": "actor.id=user3", "alerts": 1},
    ]


def test_health_joins_lag_stalls_and_last_event_per_partition() -> None:
    registry = CollectorRegistry()
    lag = Gauge("auditwatch_consumer_lag", "", ["topic", "partition"], registry=registry)
    stalled = Gauge("auditwatch_partition_stalled", "", ["topic", "partition"], registry=registry)
    last = Gauge("auditwatch_last_event_processed_timestamp_seconds", "", ["partition"], registry=registry)
    records = Counter("auditwatch_records_in_total", "", registry=registry)
    Counter("auditwatch_records_dead_lettered_total", "", registry=registry).inc(2)
    Gauge("auditwatch_notifications_parked", "", registry=registry).set(3)
    lag.labels(topic="audit.events", partition="0").set(40)
    stalled.labels(topic="audit.events", partition="0").set(1)
    last.labels(partition="0").set(1000.0)
    records.inc(10)
    moments = iter([0.0, 2.0])
    rate = RateMeter(lambda: total_records(registry))
    rate(clock=lambda: next(moments))
    records.inc(20)
    lag.labels(topic="audit.raw", partition="0").set(0)
    last.labels(partition="1").set(1020.0)  # no lag sampled for it yet
    view = health_view(
        lambda: rate(clock=lambda: next(moments)),
        None,
        now=1030.0,
        registry=registry,
        events_topic="audit.events",
    )
    assert view == {
        "partitions": [
            {
                "topic": "audit.events",
                "partition": 0,
                "lag": 40,
                "last_event_age_seconds": 30.0,
                "stalled": True,
            },
            {
                "topic": "audit.events",
                "partition": 1,
                "lag": None,
                "last_event_age_seconds": 10.0,
                "stalled": False,
            },
            {
                "topic": "audit.raw",
                "partition": 0,
                "lag": 0,
                "last_event_age_seconds": None,
                "stalled": False,
            },
        ],
        "events_per_second": 10.0,
        "records_in": 30,
        "dead_lettered": 2,
        "parked_notifications": 3,
        "last_checkpoint": None,
    }


def total_records(registry: CollectorRegistry) -> float:
    value = registry.get_sample_value("auditwatch_records_in_total")
    return value or 0.0


async def test_openapi_lists_every_contract_path_with_its_role(api: Api) -> None:
    answer = await api.client.get("/openapi.json")
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == CONTRACT_PATHS
    assert document["paths"]["/api/v1/tokens"]["post"]["x-auditwatch-role"] == "admin"
    assert document["paths"]["/api/v1/alerts/{alert_id}/ack"]["post"]["x-auditwatch-role"] == "responder"
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    validate(document)  # raises on anything OpenAPI 3.x does not allow
