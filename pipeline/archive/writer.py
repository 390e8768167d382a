"""The archive writer: appends records, rotates segments, writes signed checkpoints.

One writer per archive directory (a lock file enforces it). Its contract:

- ``append_event`` / ``append_alert`` add a record, unless one with the same
  idempotency key is already in the log (a Kafka redelivery): then nothing is
  written and ``None`` is returned.
- ``commit()`` makes every appended record durable (``fsync``) and writes a
  checkpoint once ``checkpoint_every`` records have arrived since the last one.
  A caller that acknowledges its input after ``commit()`` returns never loses
  a record it acknowledged.
- ``tick()`` is for a timer: it seals a segment older than ``segment_max_age``
  and writes a checkpoint when ``checkpoint_interval`` has passed since the
  last one, even if no record arrived.
- A checkpoint only ever covers records already synced.

``ArchiveWriter.open`` reads the whole log back: it rebuilds the Merkle state
and the idempotency keys, and refuses (``ArchiveStateError``) a log that does
not match its own last checkpoint, so a damaged archive is never extended. A
partial last line, which only a crash in the middle of a write leaves, is cut
off; nothing acknowledged can be in it. Then the writer appends a
``writer_start`` record saying what it found (a clean stop or not, the
records and last checkpoint before it, how long the archive was not running,
any bytes cut off) and signs a checkpoint: a restart, or a period with the
archive switched off, is always on the record, never silently re-chained.
``close()`` appends ``writer_stop``, signs a last checkpoint and seals the
segment.

Memory: 16 bytes of idempotency key per record held in a set (about 100 bytes
a record with Python's overhead), and ``O(log n)`` for the tree.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerts.model import Alert
from detectors.events import AuditEvent
from pipeline.archive.canonical import canonical_time, parse_time
from pipeline.archive.checkpoints import Checkpoint, checkpoint_name
from pipeline.archive.errors import ArchiveStateError
from pipeline.archive.keys import Signer
from pipeline.archive.merkle import CompactRange
from pipeline.archive.records import (
    Kind,
    Record,
    alert_record,
    event_key,
    event_record,
    key_digest,
    writer_record,
)
from pipeline.archive.recovery import Found, recover
from pipeline.archive.segments import (
    SegmentDigest,
    encode_line,
    seal_name,
    segment_name,
)
from pipeline.archive.storage import AppendHandle, ArchiveStorage

__all__ = ["ArchiveWriter", "WriterSettings", "WriterStats"]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WriterSettings:
    origin: str
    segment_max_bytes: int = 64 * 1024 * 1024
    segment_max_age: float = 3600.0
    checkpoint_every: int = 1000
    checkpoint_interval: float = 60.0


@dataclass
class WriterStats:
    appended: int = 0
    duplicates: int = 0
    checkpoints: int = 0
    segments_sealed: int = 0


class _OpenSegment:
    def __init__(self, storage: ArchiveStorage, name: str, first: int, opened: datetime) -> None:
        self.name = name
        self.handle: AppendHandle = storage.open_append(name)
        self.digest = SegmentDigest(name, first)
        self.opened = opened


class ArchiveWriter:
    """Use ``ArchiveWriter.open``; see the module docstring."""

    def __init__(
        self, storage: ArchiveStorage, signer: Signer, settings: WriterSettings, clock: Clock
    ) -> None:
        self.storage = storage
        self.signer = signer
        self.settings = settings
        self.stats = WriterStats()
        self._clock = clock
        self._locks = contextlib.ExitStack()
        self._tree = CompactRange()
        self._keys: set[bytes] = set()
        self._segment: _OpenSegment | None = None
        self._checkpoint: Checkpoint | None = None
        self._since_checkpoint = 0
        self._checkpoint_at = clock()
        self._unsynced = False
        self._closed = False

    @classmethod
    def open(
        cls,
        storage: ArchiveStorage,
        signer: Signer,
        settings: WriterSettings,
        clock: Clock = utc_now,
    ) -> ArchiveWriter:
        writer = cls(storage, signer, settings, clock)
        writer._locks.enter_context(storage.lock())
        try:
            found = recover(storage)
            writer._resume(found)
        except BaseException:
            writer._locks.close()
            raise
        return writer

    @property
    def size(self) -> int:
        return self._tree.size

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        return self._checkpoint

    def append_event(self, event: AuditEvent) -> int | None:
        """Append an accepted event; ``None`` if it is already in the log."""
        digest = key_digest(event_key(event))
        if digest in self._keys:
            self.stats.duplicates += 1
            return None
        return self._append(event_record(event, self.size, self._clock()), digest)

    def append_alert(self, alert: Alert) -> int | None:
        """Append an alert; ``None`` if an alert with its id is already in the log."""
        digest = key_digest((Kind.ALERT.value, alert.id))
        if digest in self._keys:
            self.stats.duplicates += 1
            return None
        return self._append(alert_record(alert, self.size, self._clock()), digest)

    def commit(self) -> None:
        """Make every appended record durable; checkpoint if ``checkpoint_every`` is reached."""
        self._sync()
        if self._since_checkpoint >= self.settings.checkpoint_every:
            self.checkpoint()

    def tick(self) -> None:
        """The timer: seal an old segment; checkpoint when the interval has passed, even with no records."""
        self._check_open()
        now = self._clock()
        self._sync()
        segment = self._segment
        if (
            segment is not None
            and segment.digest.count
            and _age(segment.opened, now) >= self.settings.segment_max_age
        ):
            self._seal()
        if _age(self._checkpoint_at, now) >= self.settings.checkpoint_interval:
            self.checkpoint()

    def checkpoint(self) -> Checkpoint:
        """Sync, then sign and store a checkpoint of the whole log as it is now."""
        self._check_open()
        self._sync()
        now = self._clock()
        previous = self._checkpoint
        checkpoint = Checkpoint.create(
            self.signer,
            origin=self.settings.origin,
            number=previous.number + 1 if previous is not None else 0,
            size=self.size,
            root=self._tree.root(),
            time=canonical_time(now),
            previous=previous,
        )
        self.storage.put_once(checkpoint_name(checkpoint.number), checkpoint.to_bytes())
        self._checkpoint = checkpoint
        self._checkpoint_at = now
        self._since_checkpoint = 0
        self.stats.checkpoints += 1
        return checkpoint

    def close(self) -> None:
        """Record the stop, sign a last checkpoint, seal the segment and release the directory."""
        if self._closed:
            return
        try:
            self._append(
                writer_record(Kind.WRITER_STOP, self.size, self._clock(), {"previous_size": self.size})
            )
            self.checkpoint()
            if self._segment is not None:
                self._seal()
        finally:
            self._closed = True
            self._locks.close()

    def abandon(self) -> None:
        """Release the directory without writing anything (after a storage failure)."""
        if self._segment is not None:
            self._segment.handle.close()
            self._segment = None
        self._closed = True
        self._locks.close()

    def _append(self, record: Record, digest: bytes | None = None) -> int:
        self._check_open()
        segment = self._current_segment()
        line, leaf = encode_line(record.to_bytes())
        segment.handle.write(line)
        segment.digest.add(line)
        self._tree.append(leaf)
        if record.key is not None:
            self._keys.add(digest or key_digest(record.key))
        self._since_checkpoint += 1
        self._unsynced = True
        self.stats.appended += 1
        if self._since_checkpoint >= self.settings.checkpoint_every:
            self.checkpoint()
        return record.seq

    def _current_segment(self) -> _OpenSegment:
        segment = self._segment
        if segment is not None and (
            segment.handle.size >= self.settings.segment_max_bytes
            or _age(segment.opened, self._clock()) >= self.settings.segment_max_age
        ):
            self._seal()
            segment = None
        if segment is None:
            segment = _OpenSegment(self.storage, segment_name(self.size), self.size, self._clock())
            self._segment = segment
        return segment

    def _seal(self) -> None:
        segment = self._segment
        assert segment is not None
        segment.handle.sync()
        segment.handle.close()
        self._segment = None
        self._unsynced = False
        self.storage.seal(segment.name)
        self.storage.put_once(seal_name(segment.name), segment.digest.manifest().to_bytes())
        self.stats.segments_sealed += 1

    def _sync(self) -> None:
        if self._unsynced and self._segment is not None:
            self._segment.handle.sync()
        self._unsynced = False

    def _check_open(self) -> None:
        if self._closed:
            raise ArchiveStateError("the archive writer is closed")

    def _resume(self, found: Found) -> None:
        self._tree = found.tree
        self._keys = found.keys
        self._checkpoint = found.checkpoint
        if found.open_segment is not None and found.open_digest is not None:
            if found.open_digest.count:
                self.storage.seal(found.open_segment)
                self.storage.put_once(seal_name(found.open_segment), found.open_digest.manifest().to_bytes())
            else:  # created just before a crash: reuse it for the next record
                self._segment = _OpenSegment(self.storage, found.open_segment, self.size, self._clock())
        self._append(writer_record(Kind.WRITER_START, self.size, self._clock(), self._start_data(found)))
        self.checkpoint()

    def _start_data(self, found: Found) -> dict[str, Any]:
        last, checkpoint = found.last_record, found.checkpoint
        if last is None:
            previous_stop = "none: a new archive"
        elif last.kind is Kind.WRITER_STOP:
            previous_stop = "clean"
        else:
            previous_stop = "unclean: the previous writer stopped without a stop record (crash or kill)"
        activity = [parse_time(last.archived)] if last is not None else []
        if checkpoint is not None:
            activity.append(parse_time(checkpoint.time))
        return {
            "origin": self.settings.origin,
            "key_id": self.signer.key_id,
            "previous_size": found.size,
            "previous_stop": previous_stop,
            "previous_checkpoint": None
            if checkpoint is None
            else {
                "number": checkpoint.number,
                "size": checkpoint.size,
                "time": checkpoint.time,
                "key_id": checkpoint.key_id,
            },
            "not_running_since": canonical_time(max(activity)) if activity else None,
            "cut_partial_record": None
            if not found.cut
            else {"bytes": len(found.cut), "sha256": hashlib.sha256(found.cut).hexdigest()},
        }


def _age(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds()
