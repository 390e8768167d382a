"""Redaction: no credential under a sensitive key, or in key=value text, leaves the process."""

from __future__ import annotations

import doctest
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alerts.redact
from alerts.errors import AlertConfigError
from alerts.redact import REDACTED, Redactor, redact, redact_text

SENSITIVE_KEYS = [
    "password",
    "Password",
    "db_passwd",
    "PWD",
    "client-secret",
    "aws_secret_access_key",
    "refresh_token",
    "X-Auth-Token",
    "api_key",
    "X-API-Key",
    "apiKey",
    "AUTHORIZATION",
    "Set-Cookie",
    "credentials",
    "privateKey",
    "private_key_pem",
    "session_token",
    "AccessKey",
]
PLAIN_KEYS = ["user", "actor", "action", "outcome", "source_ip", "time", "resource", "detail"]

# Secrets are at least 8 consonants and digits (none of the letters of "[REDACTED]"
# nor a sensitive key's spelling); other strings are lower-case and numbers have at
# most 4 digits, so a secret found in the output can only come from a sensitive value.
secrets = st.text(alphabet="BFGHJKLMNPQSVWXZ23456789", min_size=8, max_size=24)
plain_text = st.text(alphabet="abcdefghij .:", max_size=12)
plain_values: st.SearchStrategy[Any] = st.one_of(
    plain_text, st.integers(-9999, 9999), st.booleans(), st.none()
)


def _bury(value: Any, path: list[str | None]) -> Any:
    """Wrap ``value`` in one container per path step: a dict key, or None for a list."""
    for step in path:
        value = [value] if step is None else {step: value}
    return value


def _documents(secret: str) -> st.SearchStrategy[Any]:
    """Nested plain data with ``secret`` buried at a random depth under a sensitive key."""
    # The value under the sensitive key may itself be a container.
    planted = st.builds(
        lambda key, inner: {key: _bury(secret, inner)},
        st.sampled_from(SENSITIVE_KEYS),
        st.lists(st.sampled_from([*PLAIN_KEYS, None]), max_size=2),
    )
    buried = st.builds(_bury, planted, st.lists(st.sampled_from([*PLAIN_KEYS, None]), max_size=6))
    noise = st.recursive(
        plain_values,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.sampled_from(PLAIN_KEYS), children, max_size=3),
        ),
        max_leaves=12,
    )
    return st.builds(lambda b, n: {"evidence": [n, b, n]}, buried, noise)


@settings(database=None, max_examples=200)
@given(data=st.data(), secret=secrets)
def test_no_secret_under_a_sensitive_key_survives_at_any_depth(
    data: st.DataObject, secret: str
) -> None:
    document = data.draw(_documents(secret))
    assert secret in json.dumps(document)

    redacted = redact(document)

    assert secret not in json.dumps(redacted)
    assert REDACTED in json.dumps(redacted)


@settings(database=None, max_examples=200)
@given(
    key=st.sampled_from(SENSITIVE_KEYS),
    secret=secrets,
    sep=st.sampled_from(["=", ": ", ":", " = ", '": "']),
    before=plain_text,
    after=plain_text,
)
def test_no_secret_in_key_value_text_survives(
    key: str, secret: str, sep: str, before: str, after: str
) -> None:
    quoted = sep == '": "'
    text = (
        f'{before} "{key}{sep}{secret}" {after}'
        if quoted
        else f"{before} {key}{sep}{secret} {after}"
    )

    redacted = redact_text(text)

    assert secret not in redacted
    assert redact_text(redacted) == redacted


def test_plain_fields_are_kept() -> None:
    sample = {"actor": "alice", "action": "login", "outcome": "failure", "source_ip": "203.0.113.7"}
    assert redact(sample) == sample
    assert redact_text("5 failed login events by actor.id=alice") == (
        "5 failed login events by actor.id=alice"
    )


def test_key_value_text_keeps_key_and_structure() -> None:
    assert redact_text("GET /cb?user=bob&access_token=abc123&x=1") == (
        f"GET /cb?user=bob&access_token={REDACTED}&x=1"
    )
    assert redact_text('{"password": "p w", "user": "bob"}') == (
        f'{{"password": "{REDACTED}", "user": "bob"}}'
    )
    assert (
        redact_text("Authorization: Bearer eyJhbGciOi.x.y") == f"Authorization: Bearer {REDACTED}"
    )
    assert redact_text("user=password=hunter2") == f"user=password={REDACTED}"


def test_password_in_url_is_redacted() -> None:
    assert redact_text("fetch https://bob:hunter2@db.example.com/x failed") == (
        f"fetch https://bob:{REDACTED}@db.example.com/x failed"
    )


def test_tuples_and_lists_keep_their_type() -> None:
    assert redact(({"token": "t"}, ["password=x"])) == (
        {"token": REDACTED},
        [f"password={REDACTED}"],
    )


def test_extra_keys_extend_the_defaults() -> None:
    redactor = Redactor(extra_keys=["SSN", "card-number"])

    out = redactor.redact(
        {"ssn": "123-45-6789", "cardNumber": "4111", "password": "p", "user": "u"}
    )

    assert out == {"ssn": REDACTED, "cardNumber": REDACTED, "password": REDACTED, "user": "u"}
    assert redactor.redact_text("ssn=123-45-6789") == f"ssn={REDACTED}"
    assert redact({"ssn": "123-45-6789"}) == {"ssn": "123-45-6789"}


def test_an_extra_key_without_letters_is_a_config_error() -> None:
    with pytest.raises(AlertConfigError, match="no letters or digits"):
        Redactor(extra_keys=["--"])


@pytest.mark.parametrize(
    "text",
    ["a" * 200_000, "a:" * 100_000, "password" * 20_000, "x://a:" * 30_000, 'token="' * 20_000],
)
def test_long_adversarial_text_is_redacted_in_linear_time(text: str) -> None:
    # A quadratic pattern takes minutes on these; a linear one, milliseconds.
    import time

    started = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - started < 2.0


def test_module_examples() -> None:
    result = doctest.testmod(alerts.redact)
    assert result.attempted > 0
    assert result.failed == 0
