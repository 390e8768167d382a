"""Records from files: JSON lines, single JSON documents, gzip, and directory trees.

``iter_file_records(path)`` yields ``FileRecord(file_name, line_number, raw)``
for ``accept_record``, whatever shape the input has:

- a text or JSON-lines file: one record per non-blank line (the line's bytes,
  without its end of line, so a line that is not UTF-8 still reaches
  ``accept_record`` and is rejected there with its line number);
- a file holding one JSON document: CloudTrail's ``{"Records": [...]}`` and a
  top-level array are split into one record per entry, each the entry's exact
  text, numbered with the line the entry starts on; any other document is one
  record. Splitting matters: a CloudTrail log file can be far larger than the
  ingest record-size limit, and one broken entry then costs only itself;
- gzip, recognised by its magic bytes rather than its name;
- a directory: every ``.json``, ``.jsonl``, ``.ndjson`` and ``.log`` file in the
  tree, gzipped or not, in sorted path order (CloudTrail's S3 layout,
  ``AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/*.json.gz``, thus
  comes out by account, region and day).

A file is read as a stream unless its first line is the start of a
multi-line document, which must be read whole to be split. An unreadable file
or a corrupt gzip stream raises ``InputError`` naming the file, after the
records read before the damage.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from pipeline.errors import InputError

__all__ = ["RECORD_SUFFIXES", "FileRecord", "iter_file_records"]

RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".log")
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"


class FileRecord(NamedTuple):
    """One record and where it was found (the line it starts on, counting from 1)."""

    file_name: str
    line_number: int
    raw: bytes


def iter_file_records(path: str | Path) -> Iterator[FileRecord]:
    """Every record in the file, or in every record file under the directory."""
    root = Path(path)
    if root.is_dir():
        for file in _record_files(root):
            yield from _file_records(file)
    elif root.exists():
        yield from _file_records(root)
    else:
        raise InputError(f"{path}: no such file or directory")


def _record_files(root: Path) -> list[Path]:
    found = []
    for file in root.rglob("*"):
        name = file.name.removesuffix(".gz")
        if name.startswith(".") or not name.endswith(RECORD_SUFFIXES) or not file.is_file():
            continue
        if any(part.startswith(".") for part in file.relative_to(root).parts):
            continue
        found.append(file)
    return sorted(found)


def _file_records(file: Path) -> Iterator[FileRecord]:
    name = str(file)
    try:
        with file.open("rb") as plain:
            gzipped = plain.read(2) == _GZIP_MAGIC
        with gzip.open(file, "rb") if gzipped else file.open("rb") as stream:
            yield from _stream_records(name, stream)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a truncated stream is an EOFError.
        raise InputError(f"{name}: cannot read: {exc}") from exc


def _stream_records(name: str, stream: Iterable[bytes]) -> Iterator[FileRecord]:
    lines = iter(stream)
    head: list[bytes] = []
    first = b""
    for line in lines:
        head.append(line.removeprefix(_BOM) if not head else line)
        if line.strip():
            first = head[-1].strip()
            break
    if not first:
        return
    if first[:1] not in (b"{", b"["):
        yield from _line_records(name, chain(head, lines))
        return
    if _is_json(first):
        # One value on the first line: JSON lines, unless nothing else follows it.
        for line in lines:
            head.append(line)
            if line.strip():
                yield from _line_records(name, chain(head, lines))
                return
        yield from _document_records(name, b"".join(head))
        return
    whole = b"".join(chain(head, lines))
    if _is_json(whole):
        yield from _document_records(name, whole)
    else:
        yield from _line_records(name, whole.splitlines(keepends=True))


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return False
    return True


def _line_records(name: str, lines: Iterable[bytes]) -> Iterator[FileRecord]:
    for number, line in enumerate(lines, start=1):
        payload = line.rstrip(b"\r\n")
        if payload.strip():
            yield FileRecord(name, number, payload)


def _document_records(name: str, data: bytes) -> Iterator[FileRecord]:
    """One record per entry of a top-level array or of ``Records``; else the document."""
    text = data.decode("utf-8")  # valid: it was parsed as UTF-8 JSON
    spans = _entry_spans(text)
    if spans is None:
        start = _skip(text, 0)
        yield FileRecord(name, text.count("\n", 0, start) + 1, data.strip())
        return
    line, counted = 1, 0
    for begin, end in spans:
        line += text.count("\n", counted, begin)
        counted = begin
        yield FileRecord(name, line, text[begin:end].encode("utf-8"))


def _entry_spans(text: str) -> list[tuple[int, int]] | None:
    """Where each entry of the document's array is, or None if it has no array to split."""
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if text.startswith("[", index):
        return _array_spans(decoder, text, index)
    if not text.startswith("{", index):
        return None
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "}":
        key, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        index = _skip(text, index + 1)  # the colon
        if key == "Records" and text.startswith("[", index):
            return _array_spans(decoder, text, index)
        _, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
    return None


def _array_spans(decoder: json.JSONDecoder, text: str, index: int) -> list[tuple[int, int]]:
    spans = []
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "]":
        _, end = decoder.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
    return spans


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index
