"""Read an archive back as it is on disk: every line, its recomputed leaf, and the Merkle tree.

``scan_log`` trusts nothing: it recomputes each record's leaf hash from the
record's bytes, parses the record, and notes what is wrong with each line
without stopping. The verifier judges the result; ``prove`` and ``export``
use the tree and the records it keeps.

The tree is built from the records in the order they are stored, which is
what the checkpoints signed if nothing was moved. A partial last line (a torn
write, or a truncated file) is not a record and is left out of the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.archive.errors import RecordFormatError, StorageError
from pipeline.archive.merkle import MerkleTree, leaf_hash
from pipeline.archive.records import Kind, Record, key_digest
from pipeline.archive.segments import (
    SealManifest,
    StoredLine,
    first_seq_of,
    read_lines,
    seal_name,
    segment_names,
)
from pipeline.archive.storage import ArchiveStorage

__all__ = ["Entry", "LogScan", "SegmentScan", "scan_log"]

Keep = Callable[[Record], bool]


@dataclass(slots=True)
class Entry:
    """One stored line. ``position`` is its index in the tree; ``seq`` what the record says."""

    position: int
    segment: str
    line: int
    seq: int | None
    kind: Kind | None
    key: bytes | None
    time: str | None
    problem: str | None
    hash_mismatch: bool = False
    data: bytes | None = None

    @property
    def where(self) -> str:
        return f"{self.segment.rsplit('/', 1)[-1]} line {self.line}"

    @property
    def label(self) -> str:
        number = self.seq if self.seq is not None else self.position
        return f"record {number} ({self.where})"


@dataclass
class SegmentScan:
    name: str
    first: int | None
    start: int
    end: int
    size: int = 0
    sealed: bool = False
    manifest: SealManifest | None = None
    manifest_problem: str | None = None
    partial_tail: int = 0
    sha256: str = ""


@dataclass
class LogScan:
    entries: list[Entry] = field(default_factory=list)
    segments: list[SegmentScan] = field(default_factory=list)
    orphan_manifests: list[SealManifest] = field(default_factory=list)
    tree: MerkleTree = field(default_factory=MerkleTree)
    partial: list[tuple[str, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.tree.size

    @property
    def end(self) -> int:
        """One past the highest record number found (the size the log would have with nothing removed)."""
        return max((e.seq + 1 for e in self.entries if e.seq is not None), default=0)


def scan_log(storage: ArchiveStorage, keep: Keep | None = None) -> LogScan:
    """Read every segment; ``keep(record)`` says which records to hold on to (their bytes)."""
    scan = LogScan()
    names = segment_names(storage)
    for name in names:
        segment = SegmentScan(name, first_seq_of(name), start=scan.tree.size, end=scan.tree.size)
        digest = hashlib.sha256()
        for stored in read_lines(storage, name):
            digest.update(stored.raw)
            segment.size += len(stored.raw)
            if not stored.complete:
                segment.partial_tail = len(stored.raw)
                scan.partial.append((name, stored.line))
                continue
            scan.entries.append(_entry(scan, stored, keep))
        segment.end = scan.tree.size
        segment.sha256 = digest.hexdigest()
        segment.sealed = storage.is_sealed(name)
        _read_manifest(storage, segment)
        scan.segments.append(segment)
    present = set(names)
    for manifest_name in storage.list("segments"):
        if (
            manifest_name.endswith(".seal.json")
            and manifest_name.removesuffix(".seal.json") + ".log" not in present
        ):
            try:
                scan.orphan_manifests.append(SealManifest.from_bytes(storage.read(manifest_name)))
            except (RecordFormatError, StorageError):
                continue
    return scan


def _entry(scan: LogScan, stored: StoredLine, keep: Keep | None) -> Entry:
    position = scan.tree.size
    entry = Entry(position, stored.segment, stored.line, None, None, None, None, None)
    try:
        stored_hash, data = stored.split()
    except RecordFormatError as exc:
        data = stored.raw.removesuffix(b"\n")
        scan.tree.append(leaf_hash(data))
        entry.problem = f"malformed line: {exc}"
        return entry
    leaf = leaf_hash(data)
    scan.tree.append(leaf)
    if leaf != stored_hash:
        entry.hash_mismatch = True
        entry.problem = "the record's bytes do not hash to its stored leaf hash"
    try:
        record = Record.from_bytes(data)
    except RecordFormatError as exc:
        entry.problem = entry.problem or f"malformed record: {exc}"
        return entry
    entry.seq, entry.kind, entry.time = record.seq, record.kind, record.time
    if record.key is not None:
        entry.key = key_digest(record.key)
        if entry.problem is None and record.key != _expected_key(record):
            entry.problem = "malformed record: its key does not match its data"
    if keep is not None and keep(record):
        entry.data = data
    return entry


def _expected_key(record: Record) -> tuple[str, ...] | None:
    data = record.data
    try:
        if record.kind is Kind.EVENT:
            return (Kind.EVENT.value, str(data["origin"]["system"]), str(data["event_id"]))
        if record.kind is Kind.ALERT:
            return (Kind.ALERT.value, str(data["id"]))
    except (KeyError, TypeError):
        return None
    return None


def _read_manifest(storage: ArchiveStorage, segment: SegmentScan) -> None:
    name = seal_name(segment.name)
    if not storage.exists(name):
        return
    try:
        segment.manifest = SealManifest.from_bytes(storage.read(name))
    except (RecordFormatError, StorageError) as exc:
        segment.manifest_problem = str(exc)
