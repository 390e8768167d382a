"""Permission names: one ``service:Operation`` vocabulary whatever the source said."""

from __future__ import annotations

from typing import Any

import pytest

from detectors.events import AuditEvent
from pipeline.access import matches, permission_of
from pipeline.access.window import DurationError, parse_duration


def event(action: str, system: str, service: str | None = None) -> AuditEvent:
    data: dict[str, Any] = {
        "event_id": "e-1",
        "time": "2026-03-01T00:00:00Z",
        "actor": {"id": "alice"},
        "action": action,
        "origin": {"system": system, "service": service},
    }
    return AuditEvent.model_validate(data)


@pytest.mark.parametrize(
    ("action", "system", "service", "expected"),
    [
        ("s3:GetObject", "acme.app", None, "s3:GetObject"),  # already qualified
        ("GetObject", "aws.cloudtrail", "s3.amazonaws.com", "s3:GetObject"),  # CloudTrail
        ("s3.GetObject", "aws.cloudtrail", None, "s3:GetObject"),  # the simulator's shorthand
        ("auditwatch.api.alerts.ack", "auditwatch", "api", "auditwatch:api.alerts.ack"),  # our own API
        ("login", "acme.sso", None, "acme.sso:login"),
        ("console.login", "acme.sso", None, "acme.sso:console.login"),
        ("user.session.start", "okta", None, "okta:user.session.start"),
        ("get", "k8s.audit", "pods", "k8s.audit:get"),
    ],
)
def test_permission_names(action: str, system: str, service: str | None, expected: str) -> None:
    assert permission_of(event(action, system, service)) == expected


def test_matching_is_anchored_and_ignores_case() -> None:
    assert matches("s3:Get*", "s3:getobject")
    assert not matches("s3:Get", "s3:GetObject")  # no implicit trailing wildcard
    assert not matches("s3:Get*", "xs3:GetObject")
    assert matches("*", "anything:at.all")
    assert not matches("s3:Get.bject", "s3:GetObject")  # a dot is a dot, not a regex


def test_a_bad_duration_is_a_value_error_too() -> None:
    """The API maps ValueError to 400; the CLI reports ConfigError."""
    with pytest.raises(ValueError, match="write a whole number"):
        parse_duration("ninety days")
    assert issubclass(DurationError, ValueError)
