"""``auditwatch archive verify``: recompute everything and say exactly what is wrong, and where.

Like ``aws cloudtrail validate-logs``, the verifier reports each segment and
each checkpoint as valid or INVALID with the reason, then summary counts. It
checks:

- each record: its bytes hash to its stored leaf hash (else *hash mismatch at
  record N*), it is a canonical record of a known version, its key matches
  its data (*malformed*);
- the sequence: numbers run from 0 without gaps (*missing* record or
  segment), in order (*reordered*), each once, and no event or alert is
  stored twice (*duplicated*); a partial last line or a log shorter than its
  checkpoints is *truncated*; a sealed segment that changed no longer matches
  its seal manifest;
- each checkpoint: its signature (*bad signature*, or *unknown key* when the
  keyring does not hold it), the hash chain to the previous checkpoint
  (*chain broken*), that it is not older than the one before it or than the
  one its file is named for (*older checkpoint*), that the records it covers
  hash to its root (*root mismatch*, with the range of records since the
  last matching checkpoint), and that no two checkpoints sign the same size
  with different roots (*fork*);
- against the checkpoint last trusted (``TrustStore``, or ``--from``): the
  archive's latest checkpoint is not older (*older than trusted*: a rollback),
  and the log is an extension of it, by an RFC 6962 consistency proof (else
  *fork*).

Records after the latest checkpoint are reported as not yet signed; that is
normal for a running writer and not an error.
"""

from __future__ import annotations

from collections import Counter

from pipeline.archive.checkpoints import Checkpoint, checkpoint_names, number_of
from pipeline.archive.errors import ProofError, RecordFormatError, SignatureError, UnknownKeyError
from pipeline.archive.keys import Keyring
from pipeline.archive.merkle import verify_consistency
from pipeline.archive.report import Item, Problem, Reason, Report
from pipeline.archive.scan import Entry, LogScan, SegmentScan, scan_log
from pipeline.archive.storage import ArchiveStorage

__all__ = ["Item", "Problem", "Reason", "Report", "verify_archive"]


def verify_archive(
    storage: ArchiveStorage,
    keyring: Keyring,
    *,
    trusted: Checkpoint | None = None,
    start: int | None = None,
) -> Report:
    """Verify everything in ``storage``; ``start`` skips the checkpoints numbered below it
    and takes checkpoint ``start`` as trusted."""
    scan = scan_log(storage)
    log = Item("log", "", f"{scan.size} records")
    segments = {
        s.name: Item("segment", s.name.rsplit("/", 1)[-1], _span(s.start, s.end)) for s in scan.segments
    }
    _check_records(scan, segments, log)
    loaded, items = _check_checkpoints(storage, scan, keyring, start)
    checkpoints = [c for c, _ in loaded]
    latest = max(
        (c for c, i in loaded if i.valid),
        key=lambda c: c.number,
        default=None,
    )
    if start is not None and trusted is None:
        trusted = next((c for c in checkpoints if c.number == start), None)
    trust_items = [] if trusted is None else [_check_trusted(trusted, latest, checkpoints, scan, keyring)]
    newest = max(checkpoints, key=lambda c: c.number, default=None)
    if newest is not None and newest.size > scan.end:
        log.problems.append(
            Problem(
                Reason.TRUNCATED,
                "the end of the log",
                f"the log ends at record {scan.end - 1} but checkpoint {newest.number} signs {newest.size}: "
                f"{_records(list(range(scan.end, newest.size)))} are gone",
            )
        )
    kinds = Counter(e.kind.value for e in scan.entries if e.kind is not None)
    invalid = len(
        {p.where for item in segments.values() for p in item.problems if p.where.startswith("record")}
    )
    return Report(
        items=[*segments.values(), *items, log, *trust_items],
        records=scan.size,
        kinds=kinds,
        invalid_records=invalid,
        unsigned=max(0, scan.size - (newest.size if newest is not None else 0)),
        latest=latest,
        trusted=trusted,
    )


def _span(start: int, end: int) -> str:
    return f"records {start}-{end - 1}" if end > start else "no records"


def _check_records(scan: LogScan, segments: dict[str, Item], log: Item) -> None:
    def report(entry: Entry, reason: Reason, detail: str) -> None:
        segments[entry.segment].problems.append(Problem(reason, entry.label, detail))

    for name, line in scan.partial:
        segments[name].problems.append(
            Problem(
                Reason.TRUNCATED,
                f"{name.rsplit('/', 1)[-1]} line {line}",
                "the segment ends in a partial record",
            )
        )
    present = {e.seq for e in scan.entries if e.seq is not None}
    position_of: dict[int, Entry] = {}
    key_of: dict[bytes, Entry] = {}
    previous = -1
    for entry in scan.entries:
        if entry.problem is not None:
            reason = Reason.HASH_MISMATCH if entry.hash_mismatch else Reason.MALFORMED
            report(entry, reason, entry.problem)
        seq = entry.seq
        if seq is None:
            continue
        if seq in position_of:
            report(
                entry, Reason.DUPLICATED, f"record {seq} is stored again (first at {position_of[seq].where})"
            )
            continue
        position_of[seq] = entry
        if entry.key is not None:
            if entry.key in key_of:
                first = key_of[entry.key]
                report(entry, Reason.DUPLICATED, f"repeats the {entry.kind} already stored as {first.label}")
            else:
                key_of[entry.key] = entry
        if seq > previous + 1:
            gap = range(previous + 1, seq)
            for run in _runs([n for n in gap if n not in present]):
                _report_missing(scan, segments, entry, run)
            later = [n for n in gap if n in present]
            if later:
                report(entry, Reason.REORDERED, f"stored before {_records(later)}")
        elif seq <= previous:
            report(entry, Reason.REORDERED, f"stored after record {previous}")
        previous = max(previous, seq)
    for manifest in scan.orphan_manifests:
        end = manifest.first + manifest.count
        log.problems.append(
            Problem(
                Reason.MISSING,
                manifest.segment.rsplit("/", 1)[-1],
                f"segment missing; it was sealed with {_span(manifest.first, end)}",
            )
        )
    for segment in scan.segments:
        _check_manifest(segment, segments[segment.name])


def _report_missing(scan: LogScan, segments: dict[str, Item], entry: Entry, run: range) -> None:
    whole_segment = any(m.first == run.start for m in scan.orphan_manifests)
    if whole_segment:
        return  # reported once, from its seal manifest
    segments[entry.segment].problems.append(
        Problem(Reason.MISSING, entry.label, f"{_records(list(run))} missing before it")
    )


def _check_manifest(segment: SegmentScan, item: Item) -> None:
    where = segment.name.rsplit("/", 1)[-1]
    if segment.manifest_problem:
        item.problems.append(Problem(Reason.MALFORMED, where, f"seal manifest: {segment.manifest_problem}"))
    manifest = segment.manifest
    if manifest is None:
        return
    if segment.size < manifest.size:
        item.problems.append(
            Problem(Reason.TRUNCATED, where, f"{segment.size} bytes, sealed with {manifest.size}")
        )
    elif segment.sha256 != manifest.sha256:
        item.problems.append(
            Problem(Reason.MODIFIED, where, "its bytes differ from the SHA-256 in its seal manifest")
        )


def _check_checkpoints(
    storage: ArchiveStorage, scan: LogScan, keyring: Keyring, start: int | None
) -> tuple[list[tuple[Checkpoint, Item]], list[Item]]:
    loaded: list[tuple[Checkpoint, Item]] = []
    items: list[Item] = []
    for name in checkpoint_names(storage):
        named = number_of(name)
        assert named is not None
        item = Item("checkpoint", str(named), name.rsplit("/", 1)[-1])
        items.append(item)
        if start is not None and named < start:
            item.skipped = True
            continue
        try:
            checkpoint = Checkpoint.from_bytes(storage.read(name))
        except RecordFormatError as exc:
            item.problems.append(Problem(Reason.MALFORMED, item.summary, str(exc)))
            continue
        item.summary = f"size {checkpoint.size}, {checkpoint.time}"
        loaded.append((checkpoint, item))
        if checkpoint.number < named:
            item.problems.append(
                Problem(
                    Reason.OLDER,
                    f"checkpoint {named}",
                    f"its file holds checkpoint {checkpoint.number} (size {checkpoint.size}): "
                    "replaced by an older checkpoint",
                )
            )
        elif checkpoint.number != named:
            item.problems.append(
                Problem(
                    Reason.MALFORMED, f"checkpoint {named}", f"its file holds checkpoint {checkpoint.number}"
                )
            )
    by_file = {int(i.name): c for c, i in loaded}
    origin = loaded[0][0].origin if loaded else ""
    last_good_size = 0
    for checkpoint, item in loaded:
        named = int(item.name)
        where = f"checkpoint {named}"
        _check_signature(checkpoint, keyring, item, where)
        if checkpoint.origin != origin:
            item.problems.append(
                Problem(Reason.MALFORMED, where, f"origin {checkpoint.origin!r}, not {origin!r}")
            )
        before = by_file.get(named - 1)
        if named == 0 and checkpoint.previous is not None:
            item.problems.append(
                Problem(Reason.CHAIN_BROKEN, where, "the first checkpoint names a previous one")
            )
        elif named > 0 and before is None and named != start:
            item.problems.append(
                Problem(Reason.MISSING, where, f"checkpoint {named - 1} before it is missing")
            )
        elif before is not None and checkpoint.previous != before.digest():
            item.problems.append(
                Problem(
                    Reason.CHAIN_BROKEN, where, f"its previous hash is not that of checkpoint {named - 1}"
                )
            )
        if before is not None and checkpoint.size < before.size:
            item.problems.append(
                Problem(
                    Reason.OLDER,
                    where,
                    f"signs {checkpoint.size} records, fewer than checkpoint {named - 1} ({before.size})",
                )
            )
        if checkpoint.size > scan.size:
            if scan.end < checkpoint.size:
                detail = f"signs {checkpoint.size} records; the log ends at record {scan.end - 1}"
                item.problems.append(Problem(Reason.TRUNCATED, where, detail))
            else:
                detail = (
                    f"signs {checkpoint.size} records but the log holds {scan.size}: records were removed"
                )
                item.problems.append(Problem(Reason.ROOT_MISMATCH, where, detail))
        elif scan.tree.root(checkpoint.size) != checkpoint.root:
            item.problems.append(
                Problem(
                    Reason.ROOT_MISMATCH,
                    where,
                    f"records {_span(last_good_size, checkpoint.size).removeprefix('records ')} "
                    "do not hash to the signed root",
                )
            )
        else:
            last_good_size = checkpoint.size
    _check_forks(loaded)
    return loaded, items


def _check_signature(checkpoint: Checkpoint, keyring: Keyring, item: Item, where: str) -> None:
    try:
        checkpoint.verify(keyring)
    except UnknownKeyError as exc:
        item.problems.append(Problem(Reason.UNKNOWN_KEY, where, str(exc)))
    except SignatureError as exc:
        item.problems.append(Problem(Reason.BAD_SIGNATURE, where, str(exc)))


def _check_forks(loaded: list[tuple[Checkpoint, Item]]) -> None:
    first_of_size: dict[int, Checkpoint] = {}
    for checkpoint, item in loaded:
        seen = first_of_size.setdefault(checkpoint.size, checkpoint)
        if seen.root != checkpoint.root:
            item.problems.append(
                Problem(
                    Reason.FORK,
                    f"checkpoint {item.name}",
                    f"checkpoints {seen.number} and {checkpoint.number} both sign size {checkpoint.size} "
                    "with different roots",
                )
            )


def _check_trusted(
    trusted: Checkpoint,
    latest: Checkpoint | None,
    checkpoints: list[Checkpoint],
    scan: LogScan,
    keyring: Keyring,
) -> Item:
    item = Item("trusted checkpoint", str(trusted.number), f"size {trusted.size}, {trusted.time}")
    where = "the trusted checkpoint"
    _check_signature(trusted, keyring, item, where)
    if latest is None:
        item.problems.append(Problem(Reason.MISSING, where, "the archive has no valid checkpoint to compare"))
        return item
    if latest.size < trusted.size or latest.number < trusted.number:
        item.problems.append(
            Problem(
                Reason.OLDER_THAN_TRUSTED,
                f"checkpoint {latest.number}",
                f"the latest checkpoint (number {latest.number}, size {latest.size}) is older than the one "
                f"last trusted (number {trusted.number}, size {trusted.size}): the archive was rolled back",
            )
        )
        return item
    for checkpoint in checkpoints:
        if checkpoint.size == trusted.size and checkpoint.root != trusted.root:
            item.problems.append(
                Problem(
                    Reason.FORK,
                    f"checkpoint {checkpoint.number}",
                    f"signs size {trusted.size} with a different root than the trusted checkpoint",
                )
            )
            return item
    if trusted.size == 0 or trusted.size > scan.size or latest.size > scan.size:
        return item
    try:
        proof = scan.tree.consistency_proof(trusted.size, latest.size)
        verify_consistency(trusted.size, latest.size, trusted.root, latest.root, proof)
    except ProofError as exc:
        item.problems.append(
            Problem(
                Reason.FORK,
                f"checkpoint {latest.number}",
                f"the log is not an extension of the trusted checkpoint ({exc})",
            )
        )
    return item


def _runs(numbers: list[int]) -> list[range]:
    runs: list[range] = []
    for n in numbers:
        if runs and runs[-1].stop == n:
            runs[-1] = range(runs[-1].start, n + 1)
        else:
            runs.append(range(n, n + 1))
    return runs


def _records(numbers: list[int]) -> str:
    parts = [f"{r.start}" if len(r) == 1 else f"{r.start}-{r.stop - 1}" for r in _runs(numbers)]
    return ("record " if len(numbers) == 1 else "records ") + ", ".join(parts)
