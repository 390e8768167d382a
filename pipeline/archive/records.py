"""Archive records: the leaves of the log, in canonical JSON (see ``canonical``).

Every record has the same envelope, format version ``RECORD_VERSION``::

    {"archived": "2026-01-01T09:14:05.120000Z", "data": {...}, "key": ["event", "acme.sso", "e-17"],
     "kind": "event", "seq": 17, "time": "2026-01-01T09:14:03Z", "v": 1}

- ``seq``: the record's position in the log, from 0, without gaps;
- ``kind``: ``event`` (an accepted canonical event, ``raw`` included, so the
  leaf can be recomputed from what the source sent), ``alert``, or one of the
  writer's own records: ``writer_start`` (every start, with what it found: a
  clean stop, a crash, how long the archive was not running) and
  ``writer_stop``;
- ``key``: the idempotency key: ``["event", origin.system, event_id]`` or
  ``["alert", id]``; a second record with the same key is never appended;
- ``time``: when it happened (the event's time, the alert's ``last_seen``, the
  writer's clock for its own records); ``archived``: the writer's clock.

The leaf hashed into the tree is exactly ``Record.to_bytes()``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.model import Alert
from detectors.events import AuditEvent
from pipeline.archive.canonical import CANONICAL_VERSION, canonical_json, canonical_time
from pipeline.archive.errors import CanonicalError, RecordFormatError

__all__ = [
    "RECORD_VERSION",
    "Kind",
    "Record",
    "alert_record",
    "event_key",
    "event_record",
    "key_digest",
    "writer_record",
]

RECORD_VERSION = CANONICAL_VERSION
_FIELDS = frozenset({"archived", "data", "key", "kind", "seq", "time", "v"})


class Kind(enum.StrEnum):
    EVENT = "event"
    ALERT = "alert"
    WRITER_START = "writer_start"
    WRITER_STOP = "writer_stop"


@dataclass(frozen=True)
class Record:
    seq: int
    kind: Kind
    key: tuple[str, ...] | None
    time: str
    archived: str
    data: dict[str, Any]

    def to_bytes(self, *, floats: bool = True) -> bytes:
        """The canonical bytes; ``floats=False`` promises ``data`` holds no float (see ``canonical_json``)."""
        return canonical_json(
            {
                "archived": self.archived,
                "data": self.data,
                "key": list(self.key) if self.key is not None else None,
                "kind": self.kind.value,
                "seq": self.seq,
                "time": self.time,
                "v": RECORD_VERSION,
            },
            floats=floats,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Record:
        """Parse stored bytes; raises ``RecordFormatError`` unless they are a canonical record."""
        floats: list[str] = []

        def parse_float(text: str) -> float:
            floats.append(text)
            return float(text)

        try:
            parsed = json.loads(data, parse_float=parse_float)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordFormatError(f"not JSON: {exc}") from None
        if not isinstance(parsed, dict) or set(parsed) != _FIELDS:
            raise RecordFormatError("not an archive record (wrong fields)")
        if parsed["v"] != RECORD_VERSION:
            raise RecordFormatError(f"unknown record format version {parsed['v']!r}")
        try:
            kind = Kind(parsed["kind"])
        except ValueError:
            raise RecordFormatError(f"unknown record kind {parsed['kind']!r}") from None
        seq, key = parsed["seq"], parsed["key"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise RecordFormatError(f"bad sequence number {seq!r}")
        if key is not None and not (isinstance(key, list) and all(isinstance(k, str) for k in key)):
            raise RecordFormatError(f"bad key {key!r}")
        if not isinstance(parsed["data"], dict):
            raise RecordFormatError("data is not an object")
        if not isinstance(parsed["time"], str) or not isinstance(parsed["archived"], str):
            raise RecordFormatError("time and archived must be RFC 3339 strings")
        record = cls(
            seq=seq,
            kind=kind,
            key=tuple(key) if key is not None else None,
            time=parsed["time"],
            archived=parsed["archived"],
            data=parsed["data"],
        )
        try:
            canonical = record.to_bytes(floats=bool(floats))
        except CanonicalError as exc:
            raise RecordFormatError(str(exc)) from None
        if canonical != data:
            raise RecordFormatError("not in canonical form")
        return record

    def describe(self) -> str:
        """A short human name: ``event acme.sso/e-17``, ``alert 3f2a...``, ``writer_start``."""
        if self.key is None:
            return self.kind.value
        return f"{self.kind.value} {'/'.join(self.key[1:])}"


def event_key(event: AuditEvent) -> tuple[str, ...]:
    return (Kind.EVENT.value, event.origin.system, event.event_id)


def key_digest(key: tuple[str, ...]) -> bytes:
    """16 bytes that stand for an idempotency key in memory (parts length-prefixed: none run together)."""
    digest = hashlib.sha256()
    for part in key:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "big") + data)
    return digest.digest()[:16]


def event_record(event: AuditEvent, seq: int, archived: datetime) -> Record:
    """The record of an accepted event; the same event always gives the same ``data``."""
    return Record(
        seq=seq,
        kind=Kind.EVENT,
        key=event_key(event),
        time=canonical_time(event.time),
        archived=canonical_time(archived),
        data=event.model_dump(mode="python"),
    )


def alert_record(alert: Alert, seq: int, archived: datetime) -> Record:
    return Record(
        seq=seq,
        kind=Kind.ALERT,
        key=(Kind.ALERT.value, alert.id),
        time=canonical_time(alert.last_seen),
        archived=canonical_time(archived),
        data=alert.model_dump(mode="python"),
    )


def writer_record(kind: Kind, seq: int, now: datetime, data: dict[str, Any]) -> Record:
    if kind in (Kind.EVENT, Kind.ALERT):
        raise ValueError(f"{kind} is not a writer record")
    stamp = canonical_time(now)
    return Record(seq=seq, kind=kind, key=None, time=stamp, archived=stamp, data=data)
