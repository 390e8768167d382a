"""Building alerts from findings: stable ids, readable text, labels, redaction, JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from alerts.errors import AlertDecodeError
from alerts.model import Alert, alert_id, build_alert
from alerts.redact import REDACTED, Redactor
from detectors.findings import Finding, Severity

FindingFactory = Callable[..., Finding]
AlertFactory = Callable[..., Alert]
Sample = Callable[[int], dict[str, Any]]
WINDOW_START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def test_fixture_window_is_the_one_these_tests_assume(window_start: datetime) -> None:
    assert window_start == WINDOW_START


def test_id_is_the_documented_fingerprint(make_finding: FindingFactory) -> None:
    finding = make_finding(group={"src": "10.0.0.1", "actor.id": "alice"})
    canonical = json.dumps(
        [
            "failed-logins",
            "default",
            [["actor.id", "alice"], ["src", "10.0.0.1"]],
            "2024-05-01T10:00:00+00:00",
        ],
        separators=(",", ":"),
    )

    assert build_alert(finding).id == hashlib.sha256(canonical.encode()).hexdigest()[:32]


def test_same_finding_gives_the_same_id_whatever_else_changed(make_finding: FindingFactory) -> None:
    first = build_alert(make_finding())
    # A redelivery of the same window with more events, a later last_seen and
    # the group written in another order is the same alert.
    again = build_alert(
        make_finding(
            count=9,
            last_seen=WINDOW_START + timedelta(seconds=59),
            group={"actor.id": "alice"},
            severity=Severity.CRITICAL,
        )
    )
    # The same instant written in another zone is the same window.
    shifted = build_alert(
        make_finding(window_start=WINDOW_START.astimezone(timezone(timedelta(hours=2))))
    )

    assert first.id == again.id == shifted.id
    assert len(first.id) == 32


@pytest.mark.parametrize(
    "change",
    [
        {"rule_id": "other-rule"},
        {"tenant_id": "acme"},
        {"group": {"actor.id": "bob"}},
        {"group": {"actor.id": "alice", "src": "x"}},
        {"window_start": WINDOW_START + timedelta(seconds=60)},
    ],
)
def test_id_changes_with_each_fingerprinted_field(
    make_finding: FindingFactory, change: dict[str, object]
) -> None:
    assert alert_id(make_finding(**change)) != alert_id(make_finding())


def test_id_parts_cannot_run_together(make_finding: FindingFactory) -> None:
    assert alert_id(make_finding(rule_id="a", tenant_id="b-c")) != alert_id(
        make_finding(rule_id="a-b", tenant_id="c")
    )


def test_title_names_the_rule_and_the_entity(make_alert: AlertFactory) -> None:
    assert make_alert().title == "Failed logins burst: actor.id=alice"
    assert make_alert(group={}).title == "Failed logins burst"


def test_summary_says_who_did_what_where_how_many_times_and_when(make_alert: AlertFactory) -> None:
    assert make_alert().summary == (
        "5 failed user.session.start events by actor.id=alice "
        "between 10:00:01 and 10:00:40 UTC on 2024-05-01 (>= 5 in 60s) from 203.0.113.7"
    )


def test_summary_without_group_names_the_actors_and_spans_days(
    make_alert: AlertFactory, login_sample: Sample
) -> None:
    samples = [
        {**login_sample(i), "actor": actor, "action": action, "outcome": outcome}
        for i, (actor, action, outcome) in enumerate(
            [
                ("alice", "login", "failure"),
                ("bob", "login", "success"),
                ("carol", "mfa", "failure"),
                ("dave", "login", "failure"),
                ("erin", "login", "failure"),
            ]
        )
    ]
    alert = make_alert(
        group={},
        evidence=tuple(samples),
        threshold=None,
        first_seen=datetime(2024, 4, 30, 23, 59, 50, tzinfo=UTC),
        last_seen=datetime(2024, 5, 1, 0, 0, 10, tzinfo=UTC),
    )

    assert alert.summary == (
        "5 events (login, mfa) by alice, bob, carol and 2 more "
        "between 2024-04-30 23:59:50 and 2024-05-01 00:00:10 UTC from 203.0.113.7"
    )


def test_summary_of_a_single_event(make_alert: AlertFactory) -> None:
    moment = WINDOW_START + timedelta(seconds=5)
    alert = make_alert(count=1, evidence=(), first_seen=moment, last_seen=moment, threshold=None)

    assert alert.summary == "1 event by actor.id=alice at 10:00:05 UTC on 2024-05-01"


def test_labels_carry_group_tags_and_finding_labels_but_not_overrides(
    make_alert: AlertFactory,
) -> None:
    alert = make_alert(labels={"team": "security", "severity": "info", "alertname": "x"})

    assert alert.labels == {
        "alertname": "failed-logins",
        "severity": "high",
        "tenant": "default",
        "actor.id": "alice",
        "tags": "attack.credential_access,attack.t1110",
        "team": "security",
    }


def test_evidence_and_free_text_are_redacted(
    make_alert: AlertFactory, login_sample: Sample
) -> None:
    sample = {
        **login_sample(0),
        "reason": "bad password=hunter2",
        "request": {"headers": {"Authorization": "Bearer abc.def"}},
    }
    alert = make_alert(
        evidence=(sample,),
        description="replayed cookie: s3ss10n from the old device",
        rule_title="Token leak token=tok_live_1",
    )
    wire = alert.to_json_bytes().decode()

    for secret in ("hunter2", "abc.def", "s3ss10n", "tok_live_1"):
        assert secret not in wire
    assert alert.evidence[0]["reason"] == f"bad password={REDACTED}"
    assert alert.evidence[0]["request"] == {"headers": {"Authorization": REDACTED}}


def test_site_redact_keys_apply(make_finding: FindingFactory, login_sample: Sample) -> None:
    finding = make_finding(evidence=({**login_sample(0), "ssn": "123-45-6789"},))

    assert build_alert(finding).evidence[0]["ssn"] == "123-45-6789"
    assert build_alert(finding, redactor=Redactor(["ssn"])).evidence[0]["ssn"] == REDACTED


def test_naive_times_are_taken_as_utc(make_alert: AlertFactory) -> None:
    alert = make_alert(first_seen=datetime(2024, 5, 1, 10, 0, 1))

    assert alert.first_seen == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)


def test_json_round_trip_and_severity_spelling(make_alert: AlertFactory) -> None:
    alert = make_alert()
    document = json.loads(alert.to_json_bytes())

    assert document["severity"] == "high"
    assert document["first_seen"] == "2024-05-01T10:00:01Z"
    assert Alert.from_json_bytes(alert.to_json_bytes()) == alert
    assert Alert.from_json_bytes(json.dumps({**document, "severity": 3})).severity is Severity.HIGH


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: {**d, "unexpected": 1},
        lambda d: {**d, "severity": "urgent"},
        lambda d: {**d, "id": "not-hex"},
        lambda d: {k: v for k, v in d.items() if k != "rule_id"},
    ],
)
def test_bad_alert_json_is_a_decode_error(
    make_alert: AlertFactory, damage: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    document = json.loads(make_alert().to_json_bytes())

    with pytest.raises(AlertDecodeError, match="not an alert document"):
        Alert.from_json_bytes(json.dumps(damage(document)))


def test_alert_is_frozen(make_alert: AlertFactory) -> None:
    alert = make_alert()

    with pytest.raises(ValidationError):
        alert.title = "changed"  # type: ignore[misc]


def test_a_rules_own_summary_template_wins(make_finding: FindingFactory) -> None:
    finding = make_finding(summary="alice failed 5 logins from 203.0.113.7 password=hunter2")
    alert = build_alert(finding)
    assert alert.summary == f"alice failed 5 logins from 203.0.113.7 password={REDACTED}"
