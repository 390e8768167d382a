"""Sigma's value semantics and modifiers, over canonical fields, extra and the source record."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from detectors.rules.fields import MISSING, EventView, resolve
from detectors.rules.selection import compile_block


def event(**overrides: Any) -> AuditEvent:
    data: dict[str, Any] = {
        "event_id": "e1",
        "time": "2026-01-01T03:04:05Z",
        "actor": {"id": "Alice", "roles": ["admin", "dev"], "type": "human"},
        "action": "ConsoleLogin",
        "category": "authentication",
        "outcome": "failure",
        "source": {"ip": "203.0.113.7", "user_agent": "curl/8.5.0"},
        "origin": {"system": "aws.cloudtrail", "service": "signin.amazonaws.com"},
        "extra": {"mfa": False, "attempts": 3, "message": "Failed password for root from 203.0.113.7"},
        "raw": {
            "eventType": "AwsConsoleSignIn",
            "userIdentity": {"type": "Root", "userName": "alice", "arn": "arn:aws:iam::1:user/alice"},
            "responseStatus": {"code": 403},
            "user.name": "dotted-key",
            "payload": base64.b64encode(b"powershell -enc AAAA").decode(),
            "requestParameters": {"userName": "alice"},
        },
    }
    data.update(overrides)
    return AuditEvent.model_validate(data)


def matches(selection: dict[str, Any] | list[Any], the_event: AuditEvent | None = None) -> bool:
    block, problems = compile_block({"sel": selection, "condition": "sel"})
    assert not problems, problems
    assert block is not None
    return block.match(EventView(the_event or event()))


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ({"actor.id": "alice"}, True),  # strings compare case-insensitively
        ({"actor.id|cased": "alice"}, False),
        ({"actor.id|cased": "Alice"}, True),
        ({"action": "Console*"}, True),
        ({"action": "Console?ogin"}, True),
        ({"action": "Console?"}, False),
        ({"action": "Console\\*"}, False),  # an escaped star is a literal star
        ({"action|contains": "SOLEL"}, True),
        ({"action|startswith": "login"}, False),
        ({"action|endswith": "LOGIN"}, True),
        ({"action": ["Logout", "ConsoleLogin"]}, True),  # a list is an OR
        ({"action": "ConsoleLogin", "outcome": "success"}, False),  # a map is an AND
        ({"actor.roles": "dev"}, True),  # a list in the event: any element
        ({"actor.roles|all": ["admin", "dev"]}, True),
        ({"actor.roles|all": ["admin", "ops"]}, False),
        ({"extra.attempts": 3}, True),  # numbers by value
        ({"extra.attempts": "3"}, True),  # and as text
        ({"extra.attempts|gt": 2}, True),
        ({"extra.attempts|lte": 2}, False),
        ({"responseStatus.code": [401, 403]}, True),  # a number in the source record
        ({"responseStatus.code": "403"}, True),
        ({"extra.mfa": False}, True),  # booleans
        ({"extra.mfa": "false"}, True),
        ({"extra.mfa": True}, False),
        ({"resource": None}, True),  # null: missing or null
        ({"no.such.field": None}, True),
        ({"action": None}, False),
        ({"reason|exists": False}, True),
        ({"source.ip|exists": True}, True),
        ({"source.ip|cidr": "203.0.113.0/24"}, True),
        ({"source.ip|cidr": ["10.0.0.0/8", "2001:db8::/32"]}, False),
        ({"action|re": "^Console"}, True),
        ({"action|re": "^console"}, False),  # re is case-sensitive ...
        ({"action|re|i": "^console"}, True),  # ... unless i
        ({"action|re": "Log"}, True),  # and searches anywhere
        ({"extra.message|re|s": "Failed.*root"}, True),
        ({"requestParameters.userName|fieldref": "userIdentity.userName"}, True),
        ({"userIdentity.arn|fieldref|endswith": "requestParameters.userName"}, True),
        ({"payload|base64": "powershell -enc AAAA"}, True),
        ({"payload|base64offset|contains": "-enc"}, True),
        ({"time|hour": 3}, True),
        ({"time|minute": 4}, True),
        ({"time|year": 2025}, False),
        ({"action|neq": "ConsoleLogin"}, False),
        ({"action|neq": "Logout"}, True),
        ({"eventtype": "awsconsolesignin"}, True),  # loose key case in the source record
        ({"user.name": "dotted-key"}, True),  # a literal dotted key
        ({"userIdentity.type": "Root"}, True),  # nested paths in the source record
        ({"origin.system": "aws.cloudtrail"}, True),
        (["failed password"], True),  # keywords: anywhere in the record's text
        (["failed password", "nothing like it"], True),
        ({"|all": ["failed", "nothing like it"]}, False),
        (["*for root*"], True),
    ],
)
def test_sigma_value_semantics(selection: dict[str, Any] | list[Any], expected: bool) -> None:
    assert matches(selection) is expected


def test_field_lookup_order_and_missing_versus_null() -> None:
    the_event = event()
    assert resolve(the_event, "actor.id") == "Alice"
    assert resolve(the_event, "source.domain") is None  # canonical and null
    assert resolve(the_event, "nowhere") is MISSING
    assert resolve(the_event, "attempts") == 3  # then extra, then the source record
    assert resolve(the_event, "extra.attempts") == 3
    assert resolve(the_event, "time.weekday") == 3  # 2026-01-01 is a Thursday


def test_placeholders_are_bound_from_a_placeholders_document(tmp_path: Path) -> None:
    (tmp_path / "placeholders.yml").write_text("placeholders:\n  admins: [root, alice]\n")
    (tmp_path / "rule.yml").write_text(
        "title: admin\nname: admin\nlogsource: {product: aws}\n"
        "detection: {sel: {actor.id|expand: '%admins%'}, condition: sel}\n"
    )
    ruleset = load_ruleset([tmp_path])
    rule = ruleset.detections[0]
    assert rule.matches(EventView(event()))
    assert not rule.matches(EventView(event(actor={"id": "bob"})))


_LITERAL = st.text(alphabet="ab*?\\", max_size=6)


@given(pattern=_LITERAL, text=st.text(alphabet="abAB*?\\", max_size=8))
def test_wildcard_strings_agree_with_a_reference_regex(pattern: str, text: str) -> None:
    reference = _reference(pattern)
    the_event = event(action=text or "x")
    assert matches({"action": pattern}, the_event) is (reference.fullmatch(text or "x") is not None)


def _reference(pattern: str) -> re.Pattern[str]:
    """Sigma's wildcard rules spelled out: \\* and \\? are literal, \\\\ is one backslash."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
