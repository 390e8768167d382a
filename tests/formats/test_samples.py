"""Every sample record, read as a file and auto-detected, is a canonical event a reader
of that record would recognise."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from detectors.events import AuditEvent
from pipeline.formats import FormatContext, default_registry
from pipeline.formats.files import iter_file_records
from pipeline.ingest import Accepted, accept_record

DATA = Path(__file__).parent / "data"
INGEST_TIME = "2024-06-01T12:00:00"
"""The ``ctx`` fixture's clock."""

# actor.id, action, outcome, category, source.ip, time (UTC), origin.system
Row = tuple[str, str, str, str, str | None, str, str]

# fmt: off
EXPECTED: dict[str, list[Row]] = {
    "cloudtrail_consolelogin_failure.json": [
        ("arn:aws:iam::111122223333:user/anaya", "ConsoleLogin", "failure", "authentication",
         "192.0.2.0", "2022-11-10T16:24:34", "aws.cloudtrail"),
    ],
    "cloudtrail_updatetrail_error.json": [
        ("arn:aws:iam::123456789012:user/Alice", "UpdateTrail", "failure", "entity_management",
         "205.251.233.182", "2016-07-14T19:15:45", "aws.cloudtrail"),
    ],
    "cloudtrail_digest_example.json": [
        ("cloudtrail.amazonaws.com", "CloudTrailDigest", "success", "other", None,
         "2015-08-17T15:01:31", "aws.cloudtrail"),
    ],
    "cloudtrail_digest_empty_hour_example.json": [
        ("cloudtrail.amazonaws.com", "CloudTrailDigest", "success", "other", None,
         "2015-08-20T18:01:31", "aws.cloudtrail"),
    ],
    "k8s_audit_allowed.elastic-integrations.jsonl": [
        ("system:serviceaccount:kube-system:elastic-agent", "get", "success", "api_activity",
         "67.43.156.1", "2025-07-16T10:12:56.525137", "k8s.audit"),
    ],
    "k8s_audit_forbidden.audit2rbac-demo.jsonl": [
        ("system:admin", "list", "failure", "authorization", "::1", "2017-09-11T19:55:05",
         "k8s.audit"),
    ],
    "okta_system_log_user_session_start.json": [
        # published is 2017-09-31, which does not exist: the event has the ingest time.
        ("00u1qw1mqitPHM8AJ0g7", "user.session.start", "success", "authentication",
         "12.97.85.90", INGEST_TIME, "okta"),
    ],
    "github_audit_log_rest_example.json": [
        ("octocat", "team.add_member", "success", "account_change", None,
         "2020-12-02T17:24:34.512000", "github.audit"),
        ("octocat", "org.create", "success", "entity_management", None,
         "2020-11-27T19:58:37.008000", "github.audit"),
        ("monalisa", "repo.destroy", "success", "entity_management", None,
         "2020-11-18T17:05:48.837000", "github.audit"),
    ],
    "github_audit_log_org_stream.elastic-integrations.jsonl": [
        ("github-actor", "protected_branch.rejected_ref_update", "failure", "authorization", None,
         "2021-01-25T23:17:13.246000", "github.audit"),
        ("github-actor", "org.invite_member", "success", "account_change", None,
         "2020-03-04T23:26:22.722000", "github.audit"),
    ],
    "sshd_auth.elastic-integrations-test-auth.log": [
        ("vagrant", "ssh_login", "success", "authentication", "10.0.2.2", "2024-02-21T21:54:44",
         "linux.sshd"),
        ("vagrant", "ssh_login", "success", "authentication", "192.168.33.1",
         "2024-02-23T00:13:35", "linux.sshd"),
        ("test", "ssh_invalid_user", "failure", "other", "10.0.2.2", "2024-02-21T21:56:12",
         "linux.sshd"),
        ("root", "ssh_login", "failure", "authentication", "89.160.20.156", "2024-02-20T08:35:22",
         "linux.sshd"),
        ("vagrant", "sudo_command", "success", "authorization", None, "2024-02-21T23:35:33",
         "linux.auth"),
        ("tsg", "sudo_command", "failure", "authorization", None, "2024-02-24T00:13:02",
         "linux.auth"),
    ],
    "sshd_auth.loghub-OpenSSH_2k.log": [
        ("sshd", "ssh_reverse_mapping_failed", "unknown", "other", "173.234.31.186",
         "2024-12-10T06:55:46", "linux.sshd"),
        ("webmaster", "ssh_invalid_user", "failure", "other", "173.234.31.186",
         "2024-12-10T06:55:46", "linux.sshd"),
        ("sshd", "sshd_message", "unknown", "other", None, "2024-12-10T06:55:46", "linux.sshd"),
        ("sshd", "pam_message", "unknown", "other", None, "2024-12-10T06:55:46", "linux.auth"),
        ("sshd", "pam_auth_failure", "failure", "other", "173.234.31.186", "2024-12-10T06:55:46",
         "linux.auth"),
        ("webmaster", "ssh_login", "failure", "authentication", "173.234.31.186",
         "2024-12-10T06:55:48", "linux.sshd"),
        ("sshd", "ssh_disconnect", "unknown", "other", "173.234.31.186", "2024-12-10T06:55:48",
         "linux.sshd"),
        ("root", "pam_auth_failure", "failure", "other", None, "2024-12-10T07:13:31",
         "linux.auth"),
        ("root", "ssh_login", "failure", "authentication", "5.36.59.76", "2024-12-10T07:13:43",
         "linux.sshd"),
        *[("root", "ssh_login", "failure", "authentication", "5.36.59.76", "2024-12-10T07:13:56",
           "linux.sshd")] * 5,
        ("root", "ssh_max_auth_attempts", "failure", "other", None, "2024-12-10T07:13:56",
         "linux.sshd"),
        ("root", "pam_auth_failure_summary", "failure", "other", None, "2024-12-10T07:13:56",
         "linux.auth"),
        ("sshd", "sshd_message", "unknown", "other", None, "2024-12-10T07:13:56", "linux.sshd"),
        ("root", "ssh_login", "failure", "authentication", "104.192.3.34", "2024-12-10T09:31:34",
         "linux.sshd"),
        ("sshd", "ssh_disconnect", "unknown", "other", "104.192.3.34", "2024-12-10T09:31:34",
         "linux.sshd"),
        ("fztu", "ssh_login", "success", "authentication", "119.137.62.142",
         "2024-12-10T09:32:20", "linux.sshd"),
        ("fztu", "session_open", "success", "other", None, "2024-12-10T09:32:20", "linux.auth"),
    ],
    "ocsf_authentication_console_login_failure.json": [
        ("AIDACKCEVSQ6C2EXAMPLE", "ConsoleLogin", "failure", "authentication", "192.0.2.0",
         "2022-11-10T16:24:34", "CloudTrail"),
    ],
    "ecs_system_auth_ssh_failed.json": [
        ("root", "ssh_login", "failure", "authentication", "89.160.20.156", "2025-02-20T08:35:22",
         "system.auth"),
    ],
    "ecs_system_auth_sudo.json": [
        ("tsg", "process", "unknown", "other", None, "2025-02-24T00:13:02", "system.auth"),
    ],
    "ecs_logging_dotted.jsonl": [
        ("alice", "user-login", "failure", "authentication", "198.51.100.7",
         "2024-05-01T12:00:00.123000", "acme.auth"),
    ],
}
# fmt: on


def _sample_files() -> list[Path]:
    return sorted([*DATA.glob("samples/*"), *DATA.glob("written/*")])


def _events(path: Path, ctx: FormatContext) -> list[AuditEvent]:
    registry = default_registry()
    events: list[AuditEvent] = []
    for record in iter_file_records(path):
        result = accept_record(record.raw, registry, ctx)
        assert isinstance(result, Accepted), f"{path.name}:{record.line_number}: {result}"
        assert result.events, f"{path.name}:{record.line_number} yielded no event"
        events.extend(result.events)
    return events


def _row(event: AuditEvent) -> Row:
    return (
        event.actor.id,
        event.action,
        event.outcome.value,
        event.category.value,
        None if event.source.ip is None else str(event.source.ip),
        event.time.replace(tzinfo=None).isoformat(),
        event.origin.system,
    )


def test_every_sample_file_has_expectations() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in _sample_files())


@pytest.mark.parametrize("path", _sample_files(), ids=lambda path: path.name)
def test_sample_is_parsed_into_the_expected_events(path: Path, ctx: FormatContext) -> None:
    events = _events(path, ctx)
    assert [_row(event) for event in events] == EXPECTED[path.name]
    for event in events:
        assert event.time.utcoffset() is not None
        assert event.raw, "the original record is kept"
        assert event.ingested_time == ctx.now()
        json.loads(event.model_dump_json())  # serialisable for audit.events


@pytest.mark.parametrize("path", _sample_files(), ids=lambda path: path.name)
def test_the_same_record_always_gets_the_same_event_id(path: Path, ctx: FormatContext) -> None:
    first = [event.event_id for event in _events(path, ctx)]
    again = [event.event_id for event in _events(path, ctx)]
    assert first == again
    assert len(set(first)) == len(first)


def test_cloudtrail_console_login_failure_reads_as_the_docs_describe(
    ctx: FormatContext, data_dir: Path
) -> None:
    (event,) = _events(data_dir / "samples" / "cloudtrail_consolelogin_failure.json", ctx)
    assert event.event_id == event.source_event_id == "d38ce1b3-4575-4cb8-a632-611b8243bfc3"
    assert event.actor.name == "anaya"
    assert event.actor.type.value == "human"
    assert event.reason == "Failed authentication"
    assert event.origin.service == "signin.amazonaws.com"
    assert event.original_time == "2022-11-10T16:24:34Z"
    assert event.extra["mfa_used"] == "Yes"
    assert "actor_id_derived" in event.extra


def test_k8s_impersonation_is_the_authenticated_identity(
    ctx: FormatContext, data_dir: Path
) -> None:
    (event,) = _events(data_dir / "samples" / "k8s_audit_forbidden.audit2rbac-demo.jsonl", ctx)
    assert event.actor.authenticated_as == "bob"
    assert event.actor.roles == ("system:masters", "system:authenticated")
    assert event.resource is not None
    assert (event.resource.type, event.resource.namespace) == ("pods", "default")
    assert event.reason is not None and "forbidden" in event.reason


def test_okta_impossible_date_is_kept_verbatim_and_noted(
    ctx: FormatContext, data_dir: Path
) -> None:
    (event,) = _events(data_dir / "samples" / "okta_system_log_user_session_start.json", ctx)
    assert event.original_time == "2017-09-31T22:23:07.777Z"
    assert "does not exist" in event.extra["time_invalid"]
    assert event.actor.name == "admin@example.com"
    assert event.correlation_id == "V04Oy4ubUOc5UuG6s9DyNQAABtc"
    assert event.session_id == "1013FfF-DKQSvCI4RVXChzX-w"
    assert event.source.user_agent == "UNKNOWN-DOWNLOAD"


def test_syslog_time_assumptions_are_stated(ctx: FormatContext, data_dir: Path) -> None:
    events = _events(data_dir / "samples" / "sshd_auth.elastic-integrations-test-auth.log", ctx)
    for event in events:
        assert event.extra["time_assumed"] == (
            "syslog time has no year or zone: year 2024 from config, "
            "zone UTC assumed (no default_timezone configured)"
        )
    sudo = events[4]
    assert sudo.actor.authenticated_as == "root"
    assert sudo.resource is not None and sudo.resource.name == "/bin/ls"


def test_each_failed_ssh_attempt_counts_once(ctx: FormatContext, data_dir: Path) -> None:
    """pid 24227 failed 6 times (``ignoring max retries; 6 > 3``): PAM's lines about
    the same attempts must not add authentication failures of their own."""
    events = _events(data_dir / "samples" / "sshd_auth.loghub-OpenSSH_2k.log", ctx)
    failures = [
        event
        for event in events
        if event.category.value == "authentication"
        and event.outcome.value == "failure"
        and event.extra.get("pid") == 24227
    ]
    assert len(failures) == 6
    assert {event.action for event in failures} == {"ssh_login"}
    repeats = [event.extra.get("repeat_index") for event in failures]
    assert repeats == [None, 1, 2, 3, 4, 5]


def test_sample_rows_use_plain_values(ctx: FormatContext) -> None:
    """The table above only holds the types ``_row`` produces, and its clock is the fixture's."""
    assert ctx.now().replace(tzinfo=None).isoformat() == INGEST_TIME
    for rows in EXPECTED.values():
        for row in rows:
            assert all(isinstance(value, str | type(None)) for value in row)
            datetime.fromisoformat(row[5])
