"""Reading input records from files, directories and stdin.

Files go through ``pipeline.formats.files`` (JSON lines, whole JSON documents
split per entry, gzip, CloudTrail's S3 directory layout); stdin is read one
record per line. Each record keeps its file name and line number, so a
rejected record can be reported where a person can find it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.formats.files import iter_file_records

__all__ = ["STDIN", "InputRecord", "read_records", "total_size"]

STDIN = "-"


@dataclass(frozen=True)
class InputRecord:
    file: str
    line: int
    payload: bytes
    size: int
    """Bytes this record took in the input, for progress bars."""


def read_records(source: str) -> Iterator[InputRecord]:
    """Every record of a file, a directory tree or stdin; ``InputError`` if unreadable."""
    if source == STDIN:
        for number, line in enumerate(sys.stdin.buffer, start=1):
            payload = line.rstrip(b"\r\n")
            if payload.strip():
                yield InputRecord("<stdin>", number, payload, len(line))
        return
    for record in iter_file_records(source):
        yield InputRecord(record.file_name, record.line_number, record.raw, len(record.raw) + 1)


def total_size(sources: list[str]) -> int | None:
    """Total bytes of plain input files, or None when unknown (stdin, directories, gzip)."""
    total = 0
    for source in sources:
        path = Path(source)
        if source == STDIN or source.endswith(".gz") or not path.is_file():
            return None
        total += path.stat().st_size
    return total
