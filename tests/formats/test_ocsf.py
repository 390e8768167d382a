"""OCSF: reading OCSF events, and the round trip canonical -> OCSF -> canonical."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.events import (
    Actor,
    ActorType,
    AuditEvent,
    Category,
    Origin,
    Outcome,
    Resource,
    Severity,
    Source,
)
from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext, default_registry
from pipeline.formats.files import iter_file_records
from pipeline.formats.ocsf import OcsfAdapter, to_ocsf
from pipeline.ingest import Accepted, accept_record

DATA = Path(__file__).parent / "data"
MAPPED = {
    "event_id",
    "source_event_id",
    "time",
    "original_time",
    "tenant_id",
    "actor",
    "action",
    "category",
    "resource",
    "outcome",
    "reason",
    "source",
    "origin",
    "request_id",
    "correlation_id",
    "trace_id",
    "span_id",
    "session_id",
    "severity",
}
"""Every canonical field but schema_version, ingested_time (set on arrival) and raw."""


def _round_trip(event: AuditEvent, ctx: FormatContext) -> AuditEvent:
    wire = json.loads(json.dumps(to_ocsf(event)))
    (back,) = OcsfAdapter().adapt(wire, ctx)
    return back


def _sample_events(ctx: FormatContext) -> list[AuditEvent]:
    events = []
    for path in sorted([*DATA.glob("samples/*"), *DATA.glob("written/*")]):
        registry = default_registry()
        for record in iter_file_records(path):
            result = accept_record(record.raw, registry, ctx)
            assert isinstance(result, Accepted)
            events.extend(result.events)
    return events


def test_every_sample_event_survives_the_round_trip(ctx: FormatContext) -> None:
    events = _sample_events(ctx)
    assert len(events) > 30
    for event in events:
        back = _round_trip(event, ctx)
        assert back.model_dump(include=MAPPED) == event.model_dump(include=MAPPED)
        assert event.extra.items() <= back.extra.items()


def test_the_ocsf_event_names_its_class_and_status(ctx: FormatContext) -> None:
    (event,) = [e for e in _sample_events(ctx) if e.action == "ConsoleLogin"][:1]
    ocsf = to_ocsf(event)
    assert (ocsf["class_uid"], ocsf["category_uid"], ocsf["type_uid"]) == (3002, 3, 300299)
    assert (ocsf["status_id"], ocsf["status"]) == (2, "Failure")
    assert ocsf["metadata"]["product"]["name"] == "aws.cloudtrail"
    assert ocsf["src_endpoint"] == {"ip": "192.0.2.0"}
    assert json.loads(ocsf["raw_data"]) == event.raw


def test_a_foreign_ocsf_event_keeps_the_system_it_names(ctx: FormatContext) -> None:
    record = json.loads(
        (DATA / "written" / "ocsf_authentication_console_login_failure.json").read_text()
    )
    (event,) = OcsfAdapter().adapt(record, ctx)
    assert (event.origin.system, event.origin.service) == ("CloudTrail", "signin.amazonaws.com")
    assert event.actor.name == "anaya"
    assert event.original_time == "2022-11-10T16:24:34Z"
    assert event.extra["ocsf_class_uid"] == 3002
    del record["metadata"]["product"]
    (event,) = OcsfAdapter().adapt(record, ctx)
    assert event.origin.system == "ocsf"


def test_an_ocsf_event_without_actor_or_action_is_rejected(ctx: FormatContext) -> None:
    record: dict[str, Any] = {"class_uid": 6003, "metadata": {"version": "1.1.0"}, "time": 0}
    with pytest.raises(RecordRejected, match="to name the action"):
        OcsfAdapter().adapt(record, ctx)
    record["api"] = {"operation": "GetObject"}
    with pytest.raises(RecordRejected, match="to name the actor"):
        OcsfAdapter().adapt(record, ctx)
    record["actor"] = {"user": {"name": "ana"}}
    (event,) = OcsfAdapter().adapt(record, ctx)
    assert (event.actor.id, event.action, event.category.value) == (
        "ana",
        "GetObject",
        "api_activity",
    )


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda text: text == text.strip())
"""Canonical strings are stripped (the model strips them), and an empty one reads as absent."""
_optional = st.none() | _text
_hex = st.sampled_from("0123456789abcdef")
_events = st.builds(
    AuditEvent,
    event_id=_text,
    source_event_id=_optional,
    time=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    original_time=_optional,
    tenant_id=_text,
    actor=st.builds(
        Actor,
        id=_text,
        name=_optional,
        type=st.sampled_from(ActorType),
        roles=st.lists(_text, max_size=3).map(tuple),
        authenticated_as=_optional,
    ),
    action=_text,
    category=st.sampled_from(Category),
    resource=st.none()
    | st.builds(Resource, type=_optional, id=_optional, name=_optional, namespace=_optional),
    outcome=st.sampled_from(Outcome),
    reason=_optional,
    source=st.builds(
        Source, ip=st.none() | st.ip_addresses(), domain=_optional, user_agent=_optional
    ),
    origin=st.builds(Origin, system=_text, service=_optional),
    request_id=_optional,
    correlation_id=_optional,
    trace_id=st.none() | st.text(_hex, min_size=32, max_size=32),
    span_id=st.none() | st.text(_hex, min_size=16, max_size=16),
    session_id=_optional,
    severity=st.sampled_from(Severity),
    extra=st.dictionaries(_text, st.integers() | _text, max_size=3),
)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(event=_events)
def test_any_canonical_event_survives_the_round_trip(event: AuditEvent) -> None:
    ctx = FormatContext()
    back = _round_trip(event, ctx)
    assert back.model_dump(include=MAPPED) == event.model_dump(include=MAPPED)
    assert event.extra.items() <= back.extra.items()
