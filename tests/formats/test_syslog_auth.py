"""sshd and auth syslog lines: repeats, duplicates, time assumptions, message kinds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext
from pipeline.formats.syslog_auth import SyslogAuthAdapter

FAILED = (
    "Dec 10 07:13:43 LabSZ sshd[24227]: Failed password for root from 5.36.59.76 port 42393 ssh2"
)
REPEATED = (
    "Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 5 times: "
    "[ Failed password for root from 5.36.59.76 port 42393 ssh2]"
)


def _one(line: str, ctx: FormatContext) -> object:
    (event,) = SyslogAuthAdapter().adapt(line, ctx)
    return event


def test_message_repeated_is_expanded_into_attempts(ctx: FormatContext) -> None:
    events = SyslogAuthAdapter().adapt(REPEATED, ctx)
    assert len(events) == 5
    assert {(e.action, e.outcome.value, e.actor.id) for e in events} == {
        ("ssh_login", "failure", "root")
    }
    assert [e.extra["repeat_index"] for e in events] == [1, 2, 3, 4, 5]
    assert len({e.event_id for e in events}) == 5
    assert all(e.raw == REPEATED for e in events)


def test_the_same_line_twice_counts_once(ctx: FormatContext) -> None:
    adapter = SyslogAuthAdapter()
    assert len(adapter.adapt(FAILED, ctx)) == 1
    assert adapter.adapt(FAILED, ctx) == []
    assert len(adapter.adapt(FAILED.replace("07:13:43", "07:13:45"), ctx)) == 1


def test_duplicate_memory_is_bounded(ctx: FormatContext) -> None:
    adapter = SyslogAuthAdapter(dedup_size=2)
    lines = [FAILED.replace("port 42393", f"port {port}") for port in (1, 2, 3)]
    for line in lines:
        assert len(adapter.adapt(line, ctx)) == 1
    assert len(adapter.adapt(lines[0], ctx)) == 1  # forgotten
    assert adapter.adapt(lines[2], ctx) == []


def test_configured_year_and_zone() -> None:
    berlin = FormatContext(default_year=2023, default_timezone="Europe/Berlin")
    (event,) = SyslogAuthAdapter().adapt(FAILED, berlin)
    assert event.time == datetime(2023, 12, 10, 6, 13, 43, tzinfo=UTC)
    assert event.original_time == "Dec 10 07:13:43"
    assert event.extra["time_assumed"] == (
        "syslog time has no year or zone: year 2023 from config, zone Europe/Berlin from config"
    )


def test_without_config_the_year_comes_from_the_clock_and_never_lies_ahead() -> None:
    january = FormatContext(now=lambda: datetime(2025, 1, 5, tzinfo=UTC))
    (event,) = SyslogAuthAdapter().adapt(FAILED, january)
    assert event.time.year == 2024  # December seen in January is last December
    assert "year 2024 from the clock" in event.extra["time_assumed"]
    assert "zone UTC assumed" in event.extra["time_assumed"]


def test_an_iso_timestamp_needs_no_assumption(ctx: FormatContext) -> None:
    line = (
        "2024-03-01T10:00:00.250+01:00 web-1 sshd[77]: "
        "Accepted password for ana from 192.0.2.7 port 5 ssh2"
    )
    (event,) = SyslogAuthAdapter().adapt(line, ctx)
    assert event.time == datetime(2024, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
    assert "time_assumed" not in event.extra


def test_a_day_that_does_not_exist_gets_the_ingest_time(ctx: FormatContext) -> None:
    (event,) = SyslogAuthAdapter().adapt(FAILED.replace("Dec 10", "Feb 30"), ctx)
    assert event.time == ctx.now()
    assert "does not exist" in event.extra["time_invalid"]


def test_last_message_repeated_repeats_the_hosts_previous_message(ctx: FormatContext) -> None:
    adapter = SyslogAuthAdapter()
    adapter.adapt(FAILED, ctx)
    events = adapter.adapt("Dec 10 07:13:50 LabSZ last message repeated 3 times", ctx)
    assert [(e.action, e.actor.id) for e in events] == [("ssh_login", "root")] * 3
    with pytest.raises(RecordRejected, match="was not seen by this worker"):
        SyslogAuthAdapter().adapt("Dec 10 07:13:50 other last message repeated 3 times", ctx)


@pytest.mark.parametrize("count", ["0", "99999"])
def test_absurd_repeat_counts_are_rejected(ctx: FormatContext, count: str) -> None:
    line = REPEATED.replace("repeated 5 times", f"repeated {count} times")
    with pytest.raises(RecordRejected, match="repeated"):
        SyslogAuthAdapter().adapt(line, ctx)


# "program[pid]: message" -> (action, category, outcome, actor.id, actor.authenticated_as)
KINDS = [
    (
        "sshd[1]: Accepted publickey for ana from 192.0.2.7 port 5 ssh2: ED25519 SHA256:abc",
        ("ssh_login", "authentication", "success", "ana", None),
    ),
    (
        "sshd[1]: Failed none for invalid user  from 192.0.2.7 port 5 ssh2",
        ("ssh_login", "authentication", "failure", "(empty)", None),
    ),
    (
        "sshd[1]: Failed keyboard-interactive/pam for bob from 192.0.2.7 port 5 ssh2",
        ("ssh_login", "authentication", "failure", "bob", None),
    ),
    (
        "sshd[1]: error: maximum authentication attempts exceeded for root from 192.0.2.7 "
        "port 5 ssh2 [preauth]",
        ("ssh_max_auth_attempts", "other", "failure", "root", None),
    ),
    (
        "sshd[1]: Disconnected from invalid user admin 192.0.2.7 port 5 [preauth]",
        ("ssh_disconnect", "other", "unknown", "admin", None),
    ),
    (
        "sshd[1]: Received disconnect from 192.0.2.7 port 5:11: Bye Bye [preauth]",
        ("ssh_disconnect", "other", "unknown", "sshd", None),
    ),
    (
        "sudo: pam_unix(sudo:auth): authentication failure; logname=ana uid=1000 euid=0 "
        "tty=/dev/pts/0 ruser=ana rhost=  user=ana",
        ("pam_auth_failure", "authentication", "failure", "ana", None),
    ),
    (
        "su: pam_unix(su:auth): authentication failure; logname=ana uid=1000 euid=0 tty=pts/0 "
        "ruser=ana rhost=  user=root",
        ("pam_auth_failure", "other", "failure", "root", None),
    ),
    (
        "su[9]: pam_unix(su:session): session opened for user root(uid=0) by ana(uid=1000)",
        ("session_open", "other", "success", "ana", "root"),
    ),
    ("su[9]: (to root) ana on pts/0", ("su", "authentication", "success", "ana", "root")),
    ("su[9]: FAILED SU (to root) ana on pts/0", ("su", "authentication", "failure", "ana", "root")),
    (
        "sudo:      ana : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/ana ; "
        "USER=root ; COMMAND=/usr/bin/id",
        ("sudo_command", "authorization", "failure", "ana", "root"),
    ),
    (
        "passwd[3]: pam_unix(passwd:chauthtok): password changed for ana",
        ("password_change", "account_change", "success", "ana", None),
    ),
    (
        "useradd[3]: new user: name=deploy, UID=1001, GID=1001, home=/home/deploy, shell=/bin/bash",
        ("user_add", "account_change", "success", "useradd", None),
    ),
    (
        "groupadd[3]: new group: name=ops, GID=1002",
        ("group_add", "account_change", "success", "groupadd", None),
    ),
    (
        "usermod[3]: add 'deploy' to group 'sudo'",
        ("user_group_add", "account_change", "success", "usermod", None),
    ),
    (
        "userdel[3]: delete user 'deploy'",
        ("user_delete", "account_change", "success", "userdel", None),
    ),
    (
        "CRON[4]: pam_unix(cron:session): session closed for user root",
        ("session_close", "other", "success", "root", None),
    ),
    ("kernel: [ 1.0] something else", ("syslog_message", "other", "unknown", "kernel", None)),
]


@pytest.mark.parametrize(
    ("message", "expected"), KINDS, ids=[kind[1][0] + str(i) for i, kind in enumerate(KINDS)]
)
def test_message_kinds(
    ctx: FormatContext, message: str, expected: tuple[str, str, str, str, str | None]
) -> None:
    (event,) = SyslogAuthAdapter().adapt(f"Mar  1 10:00:00 web-1 {message}", ctx)
    assert (
        event.action,
        event.category.value,
        event.outcome.value,
        event.actor.id,
        event.actor.authenticated_as,
    ) == expected


def test_account_changes_name_the_account(ctx: FormatContext) -> None:
    (event,) = SyslogAuthAdapter().adapt(
        "Mar  1 10:00:00 web-1 usermod[3]: add 'deploy' to group 'sudo'", ctx
    )
    assert event.resource is not None
    assert (event.resource.type, event.resource.name, event.resource.namespace) == (
        "user",
        "deploy",
        "web-1",
    )
    assert event.extra["group"] == "sudo"


def test_a_pam_host_name_is_a_domain(ctx: FormatContext) -> None:
    line = (
        "Dec 10 07:13:31 LabSZ sshd[24227]: pam_unix(sshd:auth): authentication failure; logname= "
        "uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root"
    )
    (event,) = SyslogAuthAdapter().adapt(line, ctx)
    assert event.source.domain == "5.36.59.76.dynamic-dsl-ip.omantel.net.om"
    assert event.origin.system == "linux.auth"
    assert event.extra["pam_service"] == "sshd"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Dec 10 06:55:46 LabSZ", "no 'program[pid]: '"),
        ("Dec 10 06:55:46", "not a syslog line"),
    ],
)
def test_lines_without_a_message_are_rejected(ctx: FormatContext, line: str, reason: str) -> None:
    with pytest.raises(RecordRejected, match=reason.replace("[", r"\[").replace("]", r"\]")):
        SyslogAuthAdapter().adapt(line, ctx)


def test_an_unknown_configured_zone_is_a_precise_rejection() -> None:
    with pytest.raises(RecordRejected, match="unknown time zone 'Mars/Olympus'"):
        SyslogAuthAdapter().adapt(FAILED, FormatContext(default_timezone="Mars/Olympus"))
