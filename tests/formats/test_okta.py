"""Okta System Log: outcomes, categories, and odd values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext
from pipeline.formats.okta import OktaAdapter


@pytest.fixture
def session(sample: Callable[[str], Any]) -> dict[str, Any]:
    record: dict[str, Any] = sample("okta_system_log_user_session_start.json")
    record["published"] = "2024-03-01T10:00:00.000Z"
    return record


def test_a_failed_sign_in(session: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(session, outcome={"result": "FAILURE", "reason": "INVALID_CREDENTIALS"})
    (event,) = OktaAdapter().adapt(record, ctx)
    assert (event.action, event.category.value, event.outcome.value) == (
        "user.session.start",
        "authentication",
        "failure",
    )
    assert event.reason == "INVALID_CREDENTIALS"
    assert event.time.isoformat() == "2024-03-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("event_type", "result", "category", "outcome"),
    [
        ("policy.evaluate_sign_on", "DENY", "authorization", "failure"),
        ("group.user_membership.add", "SUCCESS", "account_change", "success"),
        ("user.lifecycle.deactivate", "SUCCESS", "account_change", "success"),
        ("application.lifecycle.update", "SUCCESS", "entity_management", "success"),
        ("user.authentication.sso", "CHALLENGE", "authentication", "unknown"),
        ("system.api_token.list", "SUCCESS", "api_activity", "success"),
    ],
)
def test_categories(
    session: dict[str, Any],
    ctx: FormatContext,
    event_type: str,
    result: str,
    category: str,
    outcome: str,
) -> None:
    record = dict(session, eventType=event_type, outcome={"result": result})
    (event,) = OktaAdapter().adapt(record, ctx)
    assert (event.category.value, event.outcome.value) == (category, outcome)


def test_target_and_severity(session: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(
        session,
        severity="WARN",
        target=[{"id": "00g1", "type": "UserGroup", "displayName": "Admins"}],
        debugContext={"debugData": {"requestId": "req-1", "requestUri": "/api/v1/groups"}},
    )
    (event,) = OktaAdapter().adapt(record, ctx)
    assert event.resource is not None
    assert (event.resource.type, event.resource.id, event.resource.name) == (
        "UserGroup",
        "00g1",
        "Admins",
    )
    assert event.severity.label == "medium"
    assert event.request_id == "req-1"


def test_odd_client_addresses(session: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(session, client={"ipAddress": None})
    (event,) = OktaAdapter().adapt(record, ctx)
    assert event.source.ip is None
    record = dict(session, client={"ipAddress": 1234})
    (event,) = OktaAdapter().adapt(record, ctx)
    assert event.extra["source_address"] == 1234
    assert "not an address" in event.extra["source_address_note"]


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        (None, "published: required field is missing or null"),
        ("soon", "published: not an ISO 8601 timestamp: 'soon'"),
        ([2024], "published: a timestamp must be a string, not an array"),
        ("2024-03-01T10:00:00", "published: timestamp '2024-03-01T10:00:00' has no time zone"),
    ],
)
def test_unusable_times_are_rejected(
    session: dict[str, Any], ctx: FormatContext, published: Any, reason: str
) -> None:
    with pytest.raises(RecordRejected) as caught:
        OktaAdapter().adapt(dict(session, published=published), ctx)
    assert caught.value.reason.startswith(reason)
    assert caught.value.field == "published"


def test_a_naive_time_takes_the_configured_zone(session: dict[str, Any]) -> None:
    berlin = FormatContext(default_timezone="Europe/Berlin")
    (event,) = OktaAdapter().adapt(dict(session, published="2024-03-01T10:00:00"), berlin)
    assert event.time.isoformat() == "2024-03-01T09:00:00+00:00"


def test_missing_actor_is_rejected(session: dict[str, Any], ctx: FormatContext) -> None:
    with pytest.raises(RecordRejected, match=r"actor\.id: required field is missing"):
        OktaAdapter().adapt(dict(session, actor={"type": "User"}), ctx)
