"""Ingest: every record ends as canonical events or as a rejection with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, Rejection, accept_record, partition_key

GOOD: dict[str, Any] = {
    "event_id": "e-1",
    "time": "2026-03-02T09:00:00+01:00",
    "actor": {"id": "alice", "type": "human"},
    "action": "login",
    "category": "authentication",
    "outcome": "failure",
    "source": {"ip": "203.0.113.7"},
    "origin": {"system": "acme.sso"},
}


def accept(payload: bytes | None, **context: Any) -> Accepted | Rejection:
    return accept_record(payload, default_registry(), FormatContext(**context))


def test_a_good_record_becomes_one_event_in_utc() -> None:
    outcome = accept(json.dumps(GOOD).encode())
    assert isinstance(outcome, Accepted)
    (event,) = outcome.events
    assert event.time.isoformat() == "2026-03-02T08:00:00+00:00"
    assert event.ingested_time is not None
    assert partition_key(event) == b"default/alice"


@pytest.mark.parametrize(
    ("payload", "reason", "field"),
    [
        (b"", "empty record", None),
        (b"   \n", "empty record", None),
        (b'{"event_id": "x", "actor": ', "invalid JSON", None),
        (
            json.dumps({**GOOD, "actor": {"id": 42}}).encode(),
            "actor.id: Input should be a valid string",
            "actor.id",
        ),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "action"}).encode(),
            "action: required field is missing",
            "action",
        ),
        (
            json.dumps({**GOOD, "time": "2026-03-02T09:00:00"}).encode(),
            "timestamp has no time zone",
            "time",
        ),
        (b'{"event_id": "\xff\xfe"}', "not valid UTF-8: byte 0xff at offset 14", None),
        (b"[1, 2]", "must be a JSON object", None),
        (json.dumps({**GOOD, "time": "2017-09-31T00:00:00Z"}).encode(), "time:", "time"),
        (json.dumps({**GOOD, "source": {"ip": "999.1.1.1"}}).encode(), "source.ip", "source.ip"),
        (b'{"hello": "world"}', "unrecognised format", None),
    ],
)
def test_bad_records_are_rejected_with_a_precise_reason(
    payload: bytes, reason: str, field: str | None
) -> None:
    outcome = accept(payload)
    assert isinstance(outcome, Rejection)
    assert reason in outcome.reason
    assert outcome.field == field


def test_a_record_over_the_limit_is_rejected_before_parsing() -> None:
    payload = json.dumps({**GOOD, "extra": {"blob": "x" * (1024 * 1024)}}).encode()
    outcome = accept(payload)
    assert isinstance(outcome, Rejection)
    assert "over the 1048576-byte limit" in outcome.reason


def test_a_naive_timestamp_is_accepted_when_the_source_zone_is_configured() -> None:
    outcome = accept(
        json.dumps({**GOOD, "time": "2026-03-02T09:00:00"}).encode(),
        default_timezone="Europe/Berlin",
    )
    assert isinstance(outcome, Accepted)
    assert outcome.events[0].time.isoformat() == "2026-03-02T08:00:00+00:00"


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    outcome = accept(payload)
    assert isinstance(outcome, Accepted | Rejection)
    if isinstance(outcome, Rejection):
        assert outcome.reason


@given(st.dictionaries(st.sampled_from(sorted(GOOD)), st.none() | st.integers() | st.text(max_size=20)))
def test_mutated_events_never_raise(mutation: dict[str, Any]) -> None:
    outcome = accept(json.dumps({**GOOD, **mutation}).encode())
    assert isinstance(outcome, Accepted | Rejection)
