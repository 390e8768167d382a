"""Segment files: the log's records, one per line, in sequence order.

A segment is named after the sequence number of its first record
(``segments/seg-000000001000.log``). Each line is the record's leaf hash in
hex, one space, and the record's canonical bytes::

    6e340b9c...a01d {"archived":"...","data":{...},"key":[...],"kind":"event","seq":1000,...}

The hash is redundant (it is recomputed from the record), and that is its
use: a record whose bytes changed no longer matches its own line, so the
verifier names the record instead of only a range between two checkpoints.
Canonical JSON never contains a raw newline, so a line is a record.

When a segment is full (size or age), the writer syncs it, makes it read-only
and writes its seal manifest, ``seg-000000001000.seal.json``: first record,
record count, byte size and SHA-256 of the file. A segment with a manifest
that does not match, or a manifest whose segment is gone, is reported by the
verifier.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.archive.canonical import canonical_json
from pipeline.archive.errors import RecordFormatError
from pipeline.archive.merkle import leaf_hash
from pipeline.archive.storage import ArchiveStorage

__all__ = [
    "SEGMENT_DIR",
    "SealManifest",
    "StoredLine",
    "encode_line",
    "first_seq_of",
    "read_lines",
    "seal_name",
    "segment_name",
    "segment_names",
]

SEGMENT_DIR = "segments"
_SEGMENT = re.compile(r"^segments/seg-(\d{12})\.log$")
_HEX = re.compile(rb"^[0-9a-f]{64}$")


def segment_name(first_seq: int) -> str:
    return f"{SEGMENT_DIR}/seg-{first_seq:012d}.log"


def seal_name(segment: str) -> str:
    return segment.removesuffix(".log") + ".seal.json"


def first_seq_of(name: str) -> int | None:
    match = _SEGMENT.match(name)
    return int(match.group(1)) if match else None


def segment_names(storage: ArchiveStorage) -> list[str]:
    """The segment files, in sequence order (their names sort that way)."""
    return [name for name in storage.list(SEGMENT_DIR) if first_seq_of(name) is not None]


def encode_line(record: bytes) -> tuple[bytes, bytes]:
    """The stored line of a record, and its leaf hash."""
    leaf = leaf_hash(record)
    return leaf.hex().encode() + b" " + record + b"\n", leaf


@dataclass(frozen=True)
class StoredLine:
    """One line of a segment as found on disk."""

    segment: str
    line: int
    offset: int
    raw: bytes

    @property
    def complete(self) -> bool:
        return self.raw.endswith(b"\n")

    def split(self) -> tuple[bytes, bytes]:
        """The stored leaf hash and the record bytes; raises ``RecordFormatError``."""
        body = self.raw.removesuffix(b"\n")
        stored, sep, record = body.partition(b" ")
        if not sep or not _HEX.match(stored):
            raise RecordFormatError("not '<leaf hash> <record>'")
        return bytes.fromhex(stored.decode()), record

    @property
    def where(self) -> str:
        return f"{self.segment.removeprefix(SEGMENT_DIR + '/')} line {self.line}"


def read_lines(storage: ArchiveStorage, segment: str) -> Iterator[StoredLine]:
    """Every line of a segment; the last one may lack its newline (a torn write)."""
    offset = 0
    with storage.open_read(segment) as handle:
        for number, raw in enumerate(handle, start=1):
            yield StoredLine(segment, number, offset, raw)
            offset += len(raw)


@dataclass(frozen=True)
class SealManifest:
    segment: str
    first: int
    count: int
    size: int
    sha256: str

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "count": self.count,
                "first": self.first,
                "segment": self.segment,
                "sha256": self.sha256,
                "size": self.size,
                "v": 1,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SealManifest:
        try:
            parsed = json.loads(data)
            return cls(
                segment=str(parsed["segment"]),
                first=int(parsed["first"]),
                count=int(parsed["count"]),
                size=int(parsed["size"]),
                sha256=str(parsed["sha256"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordFormatError(f"not a seal manifest: {exc}") from None


class SegmentDigest:
    """Running size, count and SHA-256 of the open segment, for its seal manifest."""

    def __init__(self, segment: str, first: int) -> None:
        self.segment = segment
        self.first = first
        self.count = 0
        self.size = 0
        self._sha = hashlib.sha256()

    def add(self, line: bytes) -> None:
        self._sha.update(line)
        self.count += 1
        self.size += len(line)

    def manifest(self) -> SealManifest:
        return SealManifest(self.segment, self.first, self.count, self.size, self._sha.hexdigest())
