"""Fixtures shared by the alerts tests: a finding as a detector would report it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.model import Alert, build_alert
from detectors.findings import Finding, Severity

WINDOW_START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)

FindingFactory = Callable[..., Finding]
AlertFactory = Callable[..., Alert]


def failed_login_sample(index: int) -> dict[str, Any]:
    """An ``evidence_sample`` of a failed login by alice, ``index`` * 9 s into the window."""
    return {
        "event_id": f"evt-{index}",
        "time": (WINDOW_START + timedelta(seconds=1 + 9 * index)).isoformat(),
        "actor": "alice",
        "action": "user.session.start",
        "outcome": "failure",
        "origin": "okta",
        "source_ip": "203.0.113.7",
    }


def _finding(**overrides: Any) -> Finding:
    evidence = tuple(failed_login_sample(i) for i in range(5))
    fields: dict[str, Any] = {
        "rule_id": "failed-logins",
        "rule_title": "Failed logins burst",
        "severity": Severity.HIGH,
        "group": {"actor.id": "alice"},
        "count": 5,
        "threshold": ">= 5 in 60s",
        "window_start": WINDOW_START,
        "window_end": WINDOW_START + timedelta(seconds=60),
        "first_seen": WINDOW_START + timedelta(seconds=1),
        "last_seen": WINDOW_START + timedelta(seconds=40),
        "event_ids": tuple(sample["event_id"] for sample in evidence),
        "evidence": evidence,
        "tags": ("attack.credential_access", "attack.t1110"),
    }
    fields.update(overrides)
    return Finding(**fields)


@pytest.fixture
def window_start() -> datetime:
    """Where the failed-logins finding's window starts."""
    return WINDOW_START


@pytest.fixture
def login_sample() -> Callable[[int], dict[str, Any]]:
    """The evidence sample factory the failed-logins finding is built from."""
    return failed_login_sample


@pytest.fixture
def make_finding() -> FindingFactory:
    """Build a failed-logins finding; keyword arguments replace its fields."""
    return _finding


@pytest.fixture
def make_alert() -> AlertFactory:
    """Build the alert of a failed-logins finding; keyword arguments replace finding fields."""
    return lambda **overrides: build_alert(_finding(**overrides))
