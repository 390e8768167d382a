"""The archive as the API shows it: its signed checkpoints and an inclusion proof per event.

Reads the archive directory the worker writes (``archive.dir``); the worker
appends while this reads, which is safe because segments and checkpoints are
only ever added. Proofs need a scan of the whole log, so callers run
:meth:`ArchiveView.proof` off the event loop.
"""

from __future__ import annotations

from typing import Any

from pipeline.archive.checkpoints import Checkpoint, checkpoint_names
from pipeline.archive.errors import ArchiveError, RecordFormatError
from pipeline.archive.proofs import inclusion_bundle
from pipeline.archive.records import Record
from pipeline.archive.scan import scan_log
from pipeline.archive.storage import ArchiveStorage

__all__ = ["ArchiveView", "NotArchived"]


class NotArchived(ArchiveError):
    """The event is not in the archive, or is not yet covered by a checkpoint."""


class ArchiveView:
    def __init__(self, storage: ArchiveStorage) -> None:
        self.storage = storage

    def _checkpoints(self) -> list[Checkpoint]:
        found: list[Checkpoint] = []
        for name in checkpoint_names(self.storage):
            try:
                found.append(Checkpoint.from_bytes(self.storage.read(name)))
            except (RecordFormatError, OSError):
                continue  # `auditwatch archive verify` reports damaged checkpoints
        return sorted(found, key=lambda c: c.number)

    def checkpoints(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` checkpoints, newest first, as signed."""
        return [c.to_json() for c in reversed(self._checkpoints()[-limit:])]

    def latest(self) -> dict[str, Any] | None:
        found = self._checkpoints()
        return found[-1].to_json() if found else None

    def proof(self, event_id: str) -> dict[str, Any]:
        """An inclusion proof of the event or alert ``event_id`` against the latest checkpoint.

        Raises :class:`NotArchived` when there is no such record, several, or no checkpoint yet.
        """

        def wanted(record: Record) -> bool:
            return record.key is not None and record.key[-1] == event_id

        checkpoints = self._checkpoints()
        if not checkpoints:
            raise NotArchived("the archive has no checkpoint yet")
        scan = scan_log(self.storage, keep=wanted)
        matches = [entry for entry in scan.entries if entry.data is not None]
        if not matches:
            raise NotArchived(f"no event or alert with id {event_id!r} in the archive")
        if len(matches) > 1:
            raise NotArchived(f"{len(matches)} records have id {event_id!r}; use `auditwatch archive prove`")
        try:
            return inclusion_bundle(scan, matches[0], checkpoints[-1])
        except ArchiveError as exc:
            raise NotArchived(str(exc)) from None
