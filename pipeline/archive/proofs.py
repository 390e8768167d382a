"""Proof bundles: what an auditor is handed, and how they check it with the public key alone.

Three kinds of JSON documents, each carrying the signed checkpoint(s) it is
relative to:

- inclusion (``auditwatch archive prove``): one record, its leaf index, and
  its RFC 6962 audit path to the root of a checkpoint;
- consistency (``auditwatch archive consistency``): two checkpoints and the
  proof that the older log is a prefix of the newer;
- export (``auditwatch archive export``): the records of a time range, each
  with its audit path to one checkpoint.

``verify_bundle`` checks any of them with a keyring and nothing else: the
checkpoint signatures, that each record is a canonical record whose number
is its leaf index, and the proofs. It raises the archive error that says what
failed, or returns one line per thing proven.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pipeline.archive.checkpoints import Checkpoint
from pipeline.archive.errors import ArchiveError, ProofError, RecordFormatError
from pipeline.archive.keys import Keyring
from pipeline.archive.merkle import leaf_hash, verify_consistency, verify_inclusion
from pipeline.archive.records import Record
from pipeline.archive.scan import Entry, LogScan

__all__ = [
    "CONSISTENCY",
    "EXPORT",
    "INCLUSION",
    "consistency_bundle",
    "dumps",
    "export_bundle",
    "inclusion_bundle",
    "verify_bundle",
]

INCLUSION = "auditwatch.archive.inclusion"
CONSISTENCY = "auditwatch.archive.consistency"
EXPORT = "auditwatch.archive.export"


def _entry_proof(scan: LogScan, entry: Entry, checkpoint: Checkpoint) -> dict[str, Any]:
    if entry.data is None:
        raise ArchiveError(f"{entry.label}: its record was not kept by the scan")
    if entry.position >= checkpoint.size:
        raise ArchiveError(
            f"{entry.label} is not yet covered by a checkpoint (the latest signs {checkpoint.size} records); "
            "try again after the next checkpoint"
        )
    return {
        "leaf_index": entry.position,
        "proof": [p.hex() for p in scan.tree.inclusion_proof(entry.position, checkpoint.size)],
        "record": entry.data.decode("utf-8"),
    }


def _check_tree(scan: LogScan, checkpoint: Checkpoint) -> None:
    """Refuse to prove anything against a checkpoint the stored log does not match."""
    if checkpoint.size > scan.size or scan.tree.root(checkpoint.size) != checkpoint.root:
        raise ArchiveError(f"the log does not match {checkpoint.describe()}; run `auditwatch archive verify`")


def inclusion_bundle(scan: LogScan, entry: Entry, checkpoint: Checkpoint) -> dict[str, Any]:
    _check_tree(scan, checkpoint)
    return {
        "type": INCLUSION,
        "v": 1,
        "checkpoint": checkpoint.to_json(),
        "tree_size": checkpoint.size,
        **_entry_proof(scan, entry, checkpoint),
    }


def consistency_bundle(scan: LogScan, old: Checkpoint, new: Checkpoint) -> dict[str, Any]:
    if old.size == 0:
        raise ArchiveError(f"{old.describe()} signs the empty log, which every log extends: nothing to prove")
    if new.size < old.size:
        raise ArchiveError(f"{new.describe()} is smaller than {old.describe()}; give the older one first")
    _check_tree(scan, old)
    _check_tree(scan, new)
    return {
        "type": CONSISTENCY,
        "v": 1,
        "old": old.to_json(),
        "new": new.to_json(),
        "proof": [p.hex() for p in scan.tree.consistency_proof(old.size, new.size)],
    }


def export_bundle(
    scan: LogScan, entries: Iterable[Entry], checkpoint: Checkpoint, start: str, end: str
) -> dict[str, Any]:
    _check_tree(scan, checkpoint)
    return {
        "type": EXPORT,
        "v": 1,
        "from": start,
        "to": end,
        "checkpoint": checkpoint.to_json(),
        "tree_size": checkpoint.size,
        "records": [_entry_proof(scan, entry, checkpoint) for entry in entries],
    }


def verify_bundle(bundle: Any, keyring: Keyring, origin: str | None = None) -> list[str]:
    """Check a bundle offline; returns what was proven, raises an ``ArchiveError`` saying what failed."""
    if not isinstance(bundle, dict) or bundle.get("v") != 1:
        raise ProofError("not a version 1 proof bundle")
    kind = bundle.get("type")
    try:
        if kind == INCLUSION:
            checkpoint = _signed(bundle["checkpoint"], keyring, origin)
            return [_verify_record(bundle, checkpoint)]
        if kind == EXPORT:
            checkpoint = _signed(bundle["checkpoint"], keyring, origin)
            lines = [
                _verify_record({**item, "tree_size": bundle["tree_size"]}, checkpoint)
                for item in bundle["records"]
            ]
            return [*lines, f"{len(lines)} records from {bundle['from']} to {bundle['to']}, all proven"]
        if kind == CONSISTENCY:
            old = _signed(bundle["old"], keyring, origin)
            new = _signed(bundle["new"], keyring, origin or old.origin)
            if new.origin != old.origin:
                raise ProofError(f"the checkpoints are of two logs: {old.origin!r} and {new.origin!r}")
            verify_consistency(old.size, new.size, old.root, new.root, _hashes(bundle["proof"]))
            return [
                f"consistent: {new.describe()} extends {old.describe()} of {old.origin} "
                f"(signed by {old.key_id[:16]}... and {new.key_id[:16]}...)"
            ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"malformed {kind} bundle: {exc!r}") from None
    raise ProofError(f"unknown bundle type {kind!r}")


def _signed(data: Any, keyring: Keyring, origin: str | None) -> Checkpoint:
    try:
        checkpoint = Checkpoint.from_json(data)
    except RecordFormatError as exc:
        raise ProofError(str(exc)) from None
    checkpoint.verify(keyring)
    if origin is not None and checkpoint.origin != origin:
        raise ProofError(f"the checkpoint is of log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _hashes(values: Any) -> list[bytes]:
    if not isinstance(values, list):
        raise ProofError("the proof is not a list of hashes")
    return [bytes.fromhex(v) for v in values]


def _verify_record(item: dict[str, Any], checkpoint: Checkpoint) -> str:
    data = item["record"].encode("utf-8")
    record = Record.from_bytes(data)
    index, size = item["leaf_index"], item["tree_size"]
    if size != checkpoint.size:
        raise ProofError(f"the proof is for size {size}, the checkpoint signs {checkpoint.size}")
    if record.seq != index:
        raise ProofError(f"record {record.seq} is presented as leaf {index}")
    verify_inclusion(index, size, leaf_hash(data), _hashes(item["proof"]), checkpoint.root)
    return (
        f"included: record {record.seq} ({record.describe()}, {record.time}) in {checkpoint.origin} "
        f"under {checkpoint.describe()}, signed by {checkpoint.key_id[:16]}..."
    )


def dumps(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False)
