"""Sigma detection blocks compiled into predicates."""

from __future__ import annotations

from typing import Any

import pytest

from detectors.events import AuditEvent
from detectors.rules.selection import SelectionError, compile_detection


def make_event(**overrides: Any) -> AuditEvent:
    data: dict[str, Any] = {
        "event_id": "e1",
        "time": "2026-01-01T00:00:00Z",
        "actor": {"id": "Alice", "roles": ["admin", "dev"]},
        "action": "ConsoleLogin",
        "category": "authentication",
        "outcome": "failure",
        "source": {"ip": "203.0.113.7"},
        "origin": {"system": "aws.cloudtrail"},
        "extra": {"mfa": False, "attempts": 3},
        "raw": {"userIdentity": {"type": "Root"}},
    }
    data.update(overrides)
    return AuditEvent.model_validate(data)


def matches(detection: dict[str, Any], event: AuditEvent | None = None) -> bool:
    return compile_detection(detection)(event or make_event())


def test_strings_compare_case_insensitively() -> None:
    assert matches({"sel": {"actor.id": "alice"}, "condition": "sel"})


def test_map_is_and_list_is_or() -> None:
    assert matches({"sel": {"action": ["Logout", "ConsoleLogin"], "outcome": "failure"}, "condition": "sel"})
    assert not matches({"sel": {"action": "ConsoleLogin", "outcome": "success"}, "condition": "sel"})


def test_wildcards_and_modifiers() -> None:
    assert matches({"sel": {"action": "Console*"}, "condition": "sel"})
    assert matches({"sel": {"action|contains": "sole"}, "condition": "sel"})
    assert matches({"sel": {"action|endswith": "login"}, "condition": "sel"})
    assert not matches({"sel": {"action|startswith": "login"}, "condition": "sel"})
    assert matches({"sel": {"actor.roles|all": ["admin", "dev"]}, "condition": "sel"})
    assert not matches({"sel": {"actor.roles|all": ["admin", "ops"]}, "condition": "sel"})


def test_numbers_booleans_and_null() -> None:
    assert matches({"sel": {"extra.attempts": 3, "extra.mfa": False}, "condition": "sel"})
    assert matches({"sel": {"resource": None}, "condition": "sel"})
    assert not matches({"sel": {"extra.attempts": 4}, "condition": "sel"})


def test_source_record_fields_are_reachable() -> None:
    assert matches({"sel": {"userIdentity.type": "Root"}, "condition": "sel"})


def test_conditions_with_not_and_or_parentheses_and_of() -> None:
    detection = {
        "login": {"action": "ConsoleLogin"},
        "ok": {"outcome": "success"},
        "filter_admin": {"actor.id": "root"},
        "condition": "login and not (ok or filter_admin)",
    }
    assert matches(detection)
    assert matches({"sel_a": {"action": "x"}, "sel_b": {"outcome": "failure"}, "condition": "1 of sel_*"})
    assert not matches(
        {"sel_a": {"action": "x"}, "sel_b": {"outcome": "failure"}, "condition": "all of them"}
    )


@pytest.mark.parametrize(
    ("detection", "message"),
    [
        (
            {"sel": {"action|base99": "x"}, "condition": "sel"},
            "'base99' in 'action|base99' is not a Sigma modifier",
        ),
        ({"sel": {"action": "x"}, "condition": "sel | count() > 5"}, "correlation"),
        ({"sel": {"action": "x"}, "condition": "nothere"}, "not a selection"),
        ({"sel": {"action": "x"}, "condition": "sel and"}, "ends too early"),
        ({"sel": {"a|expand": "%admins%"}, "condition": "sel"}, "placeholder %admins% is not bound"),
        ({"sel": {"a": "x"}, "timeframe": "5m", "condition": "sel"}, "legacy aggregations"),
        ({"sel": {"a|re": "(?<=x)y"}, "condition": "sel"}, "not valid for RE2"),
        ({"sel": {"a|cidr": "10.0.0.300/8"}, "condition": "sel"}, "Invalid CIDR"),
        ({"sel": {"a|contains": {"b": 1}}, "condition": "sel"}, "a value must be a string"),
    ],
)
def test_unsupported_constructs_are_refused_with_a_reason(detection: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_detection(detection)
