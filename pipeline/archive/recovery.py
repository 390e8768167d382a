"""Reading an archive back before extending it: the writer's view of what is on disk.

``recover`` rebuilds the Merkle state and the idempotency keys from the
segments and checks the log against its own last checkpoint. It raises
``ArchiveStateError`` for anything but a partial last line in the open
segment, which only a crash in the middle of a write leaves: that line is cut
off, and its bytes are returned for the writer's ``writer_start`` record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.archive.checkpoints import Checkpoint, checkpoint_names
from pipeline.archive.errors import ArchiveStateError, RecordFormatError
from pipeline.archive.merkle import CompactRange, leaf_hash
from pipeline.archive.records import Record, key_digest
from pipeline.archive.segments import SegmentDigest, first_seq_of, read_lines, seal_name, segment_names
from pipeline.archive.storage import ArchiveStorage

__all__ = ["Found", "recover"]

VERIFY_HINT = "run `auditwatch archive verify` to see what is wrong"


@dataclass
class Found:
    """What the log holds, for the writer to continue from."""

    size: int = 0
    tree: CompactRange = field(default_factory=CompactRange)
    keys: set[bytes] = field(default_factory=set)
    last_record: Record | None = None
    checkpoint: Checkpoint | None = None
    open_segment: str | None = None
    open_digest: SegmentDigest | None = None
    cut: bytes = b""


def recover(storage: ArchiveStorage) -> Found:
    """Read the log back and check it against its last checkpoint."""
    found = Found()
    names = checkpoint_names(storage)
    if names:
        try:
            found.checkpoint = Checkpoint.from_bytes(storage.read(names[-1]))
        except RecordFormatError as exc:
            raise ArchiveStateError(f"{names[-1]}: {exc}; {VERIFY_HINT}") from None
    segments = segment_names(storage)
    for position, name in enumerate(segments):
        if first_seq_of(name) != found.size:
            raise ArchiveStateError(
                f"{name} should start at record {found.size}: records are missing; {VERIFY_HINT}"
            )
        last_segment = position == len(segments) - 1
        open_segment = last_segment and not storage.is_sealed(name)
        digest = SegmentDigest(name, found.size)
        for line in read_lines(storage, name):
            if not line.complete and open_segment:
                found.cut = line.raw
                storage.truncate(name, line.offset)
                break
            _recover_line(found, line.raw, line.where)
            digest.add(line.raw)
        if last_segment and not storage.exists(seal_name(name)):
            found.open_segment, found.open_digest = name, digest
    checkpoint = found.checkpoint
    if checkpoint is not None:
        if checkpoint.size > found.size:
            raise ArchiveStateError(
                f"the log holds {found.size} records but its last checkpoint signs {checkpoint.size}: "
                f"records are missing; {VERIFY_HINT}"
            )
        if checkpoint.size == 0 and checkpoint.root != CompactRange().root():
            raise ArchiveStateError(f"checkpoint {checkpoint.number} has a wrong root; {VERIFY_HINT}")
    return found


def _recover_line(found: Found, raw: bytes, where: str) -> None:
    try:
        if not raw.endswith(b"\n"):
            raise RecordFormatError("partial record in a sealed segment")
        stored, _, body = raw[:-1].partition(b" ")
        leaf = leaf_hash(body)
        if stored != leaf.hex().encode():
            raise RecordFormatError(f"hash mismatch at record {found.size}")
        record = Record.from_bytes(body)
    except (RecordFormatError, ValueError) as exc:
        raise ArchiveStateError(f"{where}: {exc}; {VERIFY_HINT}") from None
    if record.seq != found.size:
        raise ArchiveStateError(f"{where}: record {record.seq} where {found.size} belongs; {VERIFY_HINT}")
    found.tree.append(leaf)
    if record.key is not None:
        found.keys.add(key_digest(record.key))
    found.last_record = record
    checkpoint = found.checkpoint
    if checkpoint is not None and found.tree.size == checkpoint.size and found.tree.root() != checkpoint.root:
        raise ArchiveStateError(
            f"records 0-{checkpoint.size - 1} do not hash to the root of checkpoint {checkpoint.number}; "
            f"{VERIFY_HINT}"
        )
    found.size += 1
