"""The writer: durable appends, idempotency, segments, checkpoints, restarts and key rotation."""

from __future__ import annotations

import itertools
import json
import os
import stat

import pytest

from pipeline.archive.checkpoints import Checkpoint
from pipeline.archive.errors import ArchiveStateError, StorageError
from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.merkle import MerkleTree, leaf_hash
from pipeline.archive.records import Kind, Record
from pipeline.archive.segments import SealManifest
from tests.archive.helpers import Archive, make_alert, make_event


def records(archive: Archive) -> list[Record]:
    found = []
    for path in archive.segments():
        for line in path.read_bytes().splitlines():
            found.append(Record.from_bytes(line.split(b" ", 1)[1]))
    return found


def checkpoints(archive: Archive) -> list[Checkpoint]:
    return [Checkpoint.from_bytes(p.read_bytes()) for p in archive.checkpoints()]


def test_records_are_numbered_without_gaps_and_a_redelivery_is_not_appended(archive: Archive) -> None:
    writer = archive.writer()
    assert writer.append_event(make_event(1)) == 1  # 0 is the writer_start record
    assert writer.append_event(make_event(1)) is None
    assert writer.append_alert(make_alert(1)) == 2
    assert writer.append_alert(make_alert(1)) is None
    writer.commit()
    writer.close()
    assert writer.stats.duplicates == 2
    reopened = archive.writer()
    assert reopened.append_event(make_event(1)) is None, "idempotency survives a restart"
    reopened.close()
    found = records(archive)
    assert [r.seq for r in found] == list(range(len(found)))
    assert [r.kind for r in found] == [
        Kind.WRITER_START,
        Kind.EVENT,
        Kind.ALERT,
        Kind.WRITER_STOP,
        Kind.WRITER_START,
        Kind.WRITER_STOP,
    ]
    assert found[1].key == ("event", "acme.sso", "e-1")
    assert found[1].data["raw"] == {"id": "e-1", "n": 1, "ok": True}, "the verbatim input is kept"


def test_commit_syncs_and_checkpoints_every_n_records(archive: Archive) -> None:
    writer = archive.writer()  # checkpoint 0 signs the start record
    for i in range(25):
        writer.append_event(make_event(i))
    writer.commit()
    sizes = [c.size for c in checkpoints(archive)]
    assert sizes == [1, 11, 21], "every 10 records (checkpoint_every)"
    writer.close()
    chain = checkpoints(archive)
    assert chain[-1].size == 27
    tree = MerkleTree(leaf_hash(r.to_bytes()) for r in records(archive))
    for previous, checkpoint in itertools.pairwise(chain):
        assert checkpoint.previous == previous.digest()
        assert checkpoint.number == previous.number + 1
    for checkpoint in chain:
        assert checkpoint.root == tree.root(checkpoint.size)
        checkpoint.verify(archive.keyring)


def test_the_timer_writes_empty_checkpoints_when_nothing_arrives(archive: Archive) -> None:
    writer = archive.writer()
    writer.tick()
    assert len(checkpoints(archive)) == 1, "not yet: the interval has not passed"
    archive.clock.advance(61)
    writer.tick()
    archive.clock.advance(61)
    writer.tick()
    chain = checkpoints(archive)
    assert [c.size for c in chain] == [1, 1, 1]
    assert [c.number for c in chain] == [0, 1, 2]
    assert chain[2].time == "2026-01-01T09:02:02Z"
    writer.close()


def test_segments_rotate_by_size_and_age_and_are_sealed_read_only(archive: Archive) -> None:
    writer = archive.writer()
    for i in range(20):
        writer.append_event(make_event(i))  # about 700 bytes each: over 4096 after six
    writer.commit()
    assert len(archive.segments()) >= 3
    archive.clock.advance(3601)
    writer.tick()  # the open segment is older than segment_max_age
    sealed = archive.segments()
    for path in sealed:
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        manifest = SealManifest.from_bytes(path.with_name(path.stem + ".seal.json").read_bytes())
        assert manifest.size == path.stat().st_size
        assert manifest.count == len(path.read_bytes().splitlines())
    firsts = [int(p.stem.removeprefix("seg-")) for p in sealed]
    assert firsts[0] == 0 and firsts == sorted(firsts)
    writer.append_event(make_event(99))
    writer.close()
    assert len(archive.segments()) == len(sealed) + 1


def test_a_restart_is_recorded_with_what_the_writer_found(archive: Archive) -> None:
    archive.fill(3)
    archive.clock.advance(3600)
    archive.writer().close()
    start = [r for r in records(archive) if r.kind is Kind.WRITER_START][1]
    assert start.data["previous_stop"] == "clean"
    assert start.data["previous_size"] == 5
    assert start.data["previous_checkpoint"]["size"] == 5
    assert start.data["not_running_since"] == "2026-01-01T09:00:03Z"
    assert start.data["cut_partial_record"] is None


def test_after_a_crash_a_partial_line_is_cut_off_and_recorded(archive: Archive) -> None:
    writer = archive.fill(3, close=False)
    writer.abandon()  # as after SIGKILL: no stop record, no last checkpoint
    segment = archive.segments()[-1]
    with segment.open("ab") as handle:
        handle.write(b'0123 {"archived":')  # a write torn by the crash
    before = segment.stat().st_size
    archive.writer().close()
    assert segment.stat().st_size == before - 17
    start = [r for r in records(archive) if r.kind is Kind.WRITER_START][1]
    assert start.data["previous_stop"].startswith("unclean")
    assert start.data["cut_partial_record"]["bytes"] == 17


def test_a_second_writer_on_the_same_directory_is_refused(archive: Archive) -> None:
    writer = archive.writer()
    with pytest.raises(StorageError, match="another archive writer"):
        archive.writer()
    writer.close()
    archive.writer().close()


def test_a_tampered_archive_is_never_extended(archive: Archive) -> None:
    archive.fill(5)
    segment = archive.segments()[0]
    segment.chmod(0o644)
    data = bytearray(segment.read_bytes())
    data[data.index(b"user-1")] = ord("X")
    segment.write_bytes(bytes(data))
    with pytest.raises(ArchiveStateError, match="hash mismatch at record 2"):
        archive.writer()


def test_an_archive_shorter_than_its_checkpoint_is_never_extended(archive: Archive) -> None:
    archive.fill(5)
    segment = archive.segments()[-1]
    segment.chmod(0o644)
    lines = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(lines[:-2]))
    with pytest.raises(ArchiveStateError, match="records are missing"):
        archive.writer()


def test_a_rotated_key_signs_from_the_restart_and_the_start_record_names_both(archive: Archive) -> None:
    archive.fill(3)
    new = Signer.generate()
    writer = archive.writer(signer=new)
    writer.append_event(make_event(50))
    writer.close()
    chain = checkpoints(archive)
    old_ids = {c.key_id for c in chain if c.size <= 5}
    assert old_ids == {archive.signer.key_id}
    assert chain[-1].key_id == new.key_id
    start = [r for r in records(archive) if r.kind is Kind.WRITER_START][1]
    assert start.data["key_id"] == new.key_id
    assert start.data["previous_checkpoint"]["key_id"] == archive.signer.key_id
    both = Keyring([archive.signer.public, new.public])
    for checkpoint in chain:
        checkpoint.verify(both)


def test_checkpoint_files_are_canonical_json(archive: Archive) -> None:
    archive.fill(1)
    data = archive.checkpoints()[0].read_bytes()
    parsed = json.loads(data)
    assert sorted(parsed) == [
        "key_id",
        "number",
        "origin",
        "previous",
        "root",
        "signature",
        "size",
        "time",
        "v",
    ]
    assert Checkpoint.from_bytes(data).to_bytes() == data
