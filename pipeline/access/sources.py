"""Events to review, from files the project's readers accept or from an archive directory.

A file (JSON lines, any input format the worker detects, gzip, CloudTrail's
S3 layout) goes through the same ingest as ``auditwatch replay``; a directory
holding ``segments/`` is read as an archive, whose event records are canonical
events already. A record that cannot be turned into events is counted and its
first reasons kept, never fatal: a review of 90 days should not stop at one
bad line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from detectors.events import AuditEvent
from pipeline.archive.errors import ArchiveError
from pipeline.archive.records import Kind, Record
from pipeline.archive.segments import read_lines, segment_names
from pipeline.archive.storage import LocalStorage
from pipeline.errors import InputError
from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, accept_record
from pipeline.readers import read_records

__all__ = ["ReadStats", "is_archive", "read_events"]

_KEEP_REASONS = 5


@dataclass
class ReadStats:
    records: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.reasons) < _KEEP_REASONS:
            self.reasons.append(f"{where}: {reason}")


def is_archive(path: Path) -> bool:
    return path.is_dir() and (path / "segments").is_dir()


def read_events(sources: list[str], stats: ReadStats) -> Iterator[AuditEvent]:
    """Every event of every source, in order; ``InputError`` when a source cannot be read at all."""
    registry = default_registry()
    context = FormatContext()
    for source in sources:
        path = Path(source)
        if source != "-" and not path.exists():
            raise InputError(f"{source}: no such file or directory")
        if is_archive(path):
            yield from _archive_events(path, stats)
            continue
        try:
            for record in read_records(source):
                stats.records += 1
                outcome = accept_record(record.payload, registry, context)
                if isinstance(outcome, Accepted):
                    yield from outcome.events
                else:
                    stats.reject(f"{record.file}:{record.line}", outcome.reason)
        except OSError as exc:
            raise InputError(f"{source}: cannot read: {exc}") from None


def _archive_events(root: Path, stats: ReadStats) -> Iterator[AuditEvent]:
    storage = LocalStorage(root)
    try:
        for segment in segment_names(storage):
            for stored in read_lines(storage, segment):
                if not stored.complete:
                    continue  # a torn last write is not a record
                try:
                    record = Record.from_bytes(stored.split()[1])
                except ArchiveError as exc:
                    stats.records += 1
                    stats.reject(f"{root}/{stored.where}", str(exc))
                    continue
                if record.kind is not Kind.EVENT:
                    continue  # alerts and the writer's own records are not activity
                stats.records += 1
                try:
                    yield AuditEvent.model_validate(record.data)
                except ValidationError as exc:
                    stats.reject(f"{root}/{stored.where}", str(exc.errors(include_url=False)[0]["msg"]))
    except OSError as exc:
        raise InputError(f"{root}: cannot read the archive: {exc}") from None
