"""Linux auth syslog lines (``/var/log/auth.log``, ``/var/log/secure``): sshd, PAM, sudo, su.

A record is one text line. The header is BSD syslog (``Dec 10 06:55:46 host
sshd[24200]: message``, optionally behind a ``<PRI>``) or an RFC 3339 time
(``2024-03-01T10:00:00.123+01:00 host sshd[1]: message``). What the message
means (action, category, outcome) is in ``pipeline.formats.syslog_messages``.

============================  ===============================================
syslog                        canonical
============================  ===============================================
timestamp                     time; original_time (verbatim). A BSD time has
                              no year and no zone: the year is
                              ``ctx.default_year`` (else the clock's year, or
                              the year before if that would put the line more
                              than a day in the future) and the zone is
                              ``ctx.default_timezone`` (else UTC); where each
                              came from is said in ``extra.time_assumed``.
                              A day that does not exist (``Feb 30``) gives
                              the ingest time, noted in ``extra.time_invalid``
hostname                      resource (type ``host``) unless the message
                              names another; extra.host
program[pid]                  origin.service; extra.program, extra.pid
message                       extra.message; action, category, outcome,
                              reason per the message table
user in the message           actor.id and actor.name (human; unknown for
                              sshd's invalid users); a line without one has
                              the program as a system actor
``from <addr>``, ``rhost=``   source.ip, or source.domain for a host name
sudo ``USER=``,               actor.authenticated_as
su ``(to R)``
port, method, key, pam        extra.port, extra.auth_method, extra.key,
service, sudo fields          extra.pam_service, extra.tty / pwd / user ...
(none)                        event_id: SHA-256 of the origin system and the
                              line (and the repeat index for expanded
                              repeats); source_event_id is None
============================  ===============================================

``message repeated N times: [ msg ]`` (rsyslog's reduction of identical
lines) is N more occurrences of ``msg``, so it yields N events, with
``extra.repeat_index`` and ``extra.repeat_count``. The older ``last message
repeated N times`` repeats the previous message of the same host, which the
adapter remembers for the last ``hosts_remembered`` hosts.

The same line seen twice (a log shipped by two forwarders, a file replayed
over a stream) is one attempt logged twice, so it yields no event the second
time; the adapter remembers the last ``dedup_size`` lines. Two genuinely
different attempts cannot produce the same line: sshd waits seconds between
password attempts on a connection, and a new connection has a new port, so
the timestamp, pid or port differ.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from detectors.events import ActorType, AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecentKeys,
    build_event,
    classify_address,
    config_zone,
    stable_id,
)
from pipeline.formats.base import DecodedRecord, FormatContext
from pipeline.formats.syslog_messages import Interpretation, interpret

__all__ = ["SyslogAuthAdapter"]

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_BSD = re.compile(
    r"^(?:<\d{1,3}>)?(?P<stamp>(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" {1,2}(?P<day>\d{1,2}) (?P<hh>\d{2}):(?P<mm>\d{2}):(?P<ss>\d{2})(?:\.(?P<frac>\d{1,9}))?)"
    r" (?P<rest>.*)$"
)
_ISO = re.compile(
    r"^(?:<\d{1,3}>)?(?:1 )?(?P<stamp>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
    r"(?:Z|[+-]\d{2}:?\d{2})?) (?P<rest>.*)$"
)
_BODY = re.compile(r"^(?P<host>\S+) (?P<program>[^\s\[:]+)(?:\[(?P<pid>\d{1,10})\])?: ?(?P<message>.*)$")
_LAST_REPEATED = re.compile(r"^(?P<host>\S+) last message repeated (?P<count>\d{1,9}) times?$")
_REPEATED = re.compile(r"^message repeated (?P<count>\d{1,9}) times?: \[ ?(?P<inner>.*?)\]$")
_FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Message:
    host: str
    program: str
    pid: int | None
    text: str


class SyslogAuthAdapter:
    """Auth syslog lines; expands repeats and drops a line seen again."""

    name = "syslog_auth"

    def __init__(
        self, dedup_size: int = 4096, max_repeat: int = 10_000, hosts_remembered: int = 1024
    ) -> None:
        self.max_repeat = max_repeat
        self._recent = RecentKeys(dedup_size)
        self._hosts_remembered = hosts_remembered
        self._last: OrderedDict[str, _Message] = OrderedDict()

    def detect(self, record: DecodedRecord) -> bool:
        return isinstance(record, str) and (_BSD.match(record) or _ISO.match(record)) is not None

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, str):
            raise RecordRejected("a syslog record must be a line of text")
        line = record.strip()
        header = _BSD.match(line) or _ISO.match(line)
        if header is None:
            raise RecordRejected(
                "not a syslog line: expected 'Mmm dd hh:mm:ss host program[pid]: message' "
                "or an RFC 3339 time first"
            )
        if line in self._recent:
            return []
        extra: dict[str, Any] = {}
        time = _time(header, ctx, extra)
        message, count = self._message(header["rest"])
        if count > self.max_repeat:
            raise RecordRejected(
                f"message repeated {count} times: more than the {self.max_repeat} events one "
                "line may yield (raise the syslog adapter's max_repeat if this is expected)"
            )
        meaning = interpret(message.program, message.text)
        stamp = header["stamp"]
        if count == 1:
            events = [_event(meaning, message, line, stamp, time, extra, ctx, None)]
        else:
            events = [
                _event(meaning, message, line, stamp, time, extra, ctx, (index, count))
                for index in range(1, count + 1)
            ]
        self._recent.add(line)
        self._remember(message)
        return events

    def _message(self, rest: str) -> tuple[_Message, int]:
        """The message a line carries, and how many times it occurred."""
        body = _BODY.match(rest)
        if body is None:
            last = _LAST_REPEATED.match(rest)
            if last is None:
                raise RecordRejected("syslog line has no 'program[pid]: ' before its message")
            previous = self._last.get(last["host"])
            if previous is None:
                raise RecordRejected(
                    f"'last message repeated' for host {last['host']!r}, whose previous "
                    "message was not seen by this worker"
                )
            return previous, _positive(last["count"])
        pid = int(body["pid"]) if body["pid"] else None
        message = _Message(body["host"], body["program"], pid, body["message"].strip())
        repeated = _REPEATED.match(message.text)
        if repeated is None:
            return message, 1
        inner = _Message(message.host, message.program, pid, repeated["inner"].strip())
        return inner, _positive(repeated["count"])

    def _remember(self, message: _Message) -> None:
        self._last[message.host] = message
        self._last.move_to_end(message.host)
        if len(self._last) > self._hosts_remembered:
            self._last.popitem(last=False)


def _positive(count: str) -> int:
    value = int(count)
    if value < 1:
        raise RecordRejected(f"a message cannot be repeated {value} times")
    return value


def _time(header: re.Match[str], ctx: FormatContext, extra: dict[str, Any]) -> datetime:
    stamp = header["stamp"]
    zone = config_zone(ctx, "timestamp")
    zone_note = (
        f"zone {ctx.default_timezone} from config"
        if ctx.default_timezone
        else "zone UTC assumed (no default_timezone configured)"
    )
    if header.re is _ISO:
        try:
            parsed = datetime.fromisoformat(stamp)
        except ValueError as exc:
            return _invalid(stamp, str(exc), ctx, extra)
        if parsed.tzinfo is None:
            extra["time_assumed"] = f"syslog time has no zone: {zone_note}"
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)
    now = ctx.now()
    year = ctx.default_year or now.year
    frac = header["frac"] or "0"
    try:
        parsed = datetime(
            year,
            _MONTHS[header["mon"]],
            int(header["day"]),
            int(header["hh"]),
            int(header["mm"]),
            int(header["ss"]),
            int(frac[:6].ljust(6, "0")),
            tzinfo=zone,
        )
        if ctx.default_year is None and parsed > now + _FUTURE_SLACK:
            year -= 1
            parsed = parsed.replace(year=year)
    except ValueError as exc:
        return _invalid(f"{stamp} (year {year})", str(exc), ctx, extra)
    year_note = f"year {year} from config" if ctx.default_year else f"year {year} from the clock"
    extra["time_assumed"] = f"syslog time has no year or zone: {year_note}, {zone_note}"
    return parsed.astimezone(UTC)


def _invalid(stamp: str, why: str, ctx: FormatContext, extra: dict[str, Any]) -> datetime:
    extra["time_invalid"] = (
        f"timestamp {stamp!r} names a time that does not exist ({why}); time is the ingest time"
    )
    return ctx.now().astimezone(UTC)


def _event(
    meaning: Interpretation,
    message: _Message,
    line: str,
    stamp: str,
    time: datetime,
    base_extra: dict[str, Any],
    ctx: FormatContext,
    repeat: tuple[int, int] | None,
) -> AuditEvent:
    extra: dict[str, Any] = {**base_extra, "host": message.host, "program": message.program}
    if message.pid is not None:
        extra["pid"] = message.pid
    extra["message"] = message.text
    extra.update(meaning.details)
    if repeat is not None:
        extra["repeat_index"], extra["repeat_count"] = repeat
    ip, domain = classify_address(meaning.address, "client address", extra)
    if domain is None and meaning.host_name is not None:
        _, domain = classify_address(meaning.host_name, "client host name", {})
    actor = _actor(meaning, message, extra)
    if meaning.resource is not None:
        kind, name = meaning.resource
        resource = {"type": kind, "name": name, "namespace": message.host}
    else:
        resource = {"type": "host", "name": message.host}
    suffix = str(repeat[0]) if repeat is not None else ""
    data = {
        "event_id": stable_id(meaning.system, line, suffix),
        "time": time,
        "original_time": stamp,
        "ingested_time": ctx.now(),
        "actor": actor,
        "action": meaning.action,
        "category": meaning.category,
        "resource": resource,
        "outcome": meaning.outcome,
        "reason": meaning.reason,
        "source": {"ip": ip, "domain": domain},
        "origin": {"system": meaning.system, "service": message.program},
        "raw": line,
        "extra": extra,
    }
    return build_event(data)


def _actor(meaning: Interpretation, message: _Message, extra: dict[str, Any]) -> dict[str, Any]:
    if meaning.user is None:
        return {"id": message.program, "type": ActorType.SYSTEM}
    user = meaning.user.strip()
    if not user:
        extra.setdefault("oddities", []).append("the message names an empty user name")
        user = "(empty)"
    invalid = bool(meaning.details.get("invalid_user"))
    return {
        "id": user,
        "name": user,
        "type": ActorType.UNKNOWN if invalid else ActorType.HUMAN,
        "authenticated_as": meaning.authenticated_as,
    }
