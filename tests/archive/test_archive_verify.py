"""The verifier: a clean archive is valid; every kind of tampering is found, named and located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.archive.checkpoints import Checkpoint, checkpoint_name
from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.verify import Reason, Report, verify_archive
from tests.archive.helpers import Archive, make_event


@pytest.fixture
def filled(archive: Archive) -> Archive:
    """34 records (start, 30 events, 2 alerts, stop) in several segments, 5 checkpoints."""
    archive.fill(30, alerts=2)
    return archive


def verify(archive: Archive, **kwargs: object) -> Report:
    return verify_archive(archive.storage, archive.keyring, **kwargs)  # type: ignore[arg-type]


def record_lines(archive: Archive) -> list[tuple[Path, int]]:
    """(segment, line index) of each record, in order."""
    return [(path, i) for path in archive.segments() for i in range(len(path.read_bytes().splitlines()))]


def edit(path: Path, change: object) -> None:
    path.chmod(0o644)
    lines = path.read_bytes().splitlines(keepends=True)
    assert callable(change)
    path.write_bytes(b"".join(change(lines)))


def locate(archive: Archive, seq: int) -> tuple[Path, int]:
    return record_lines(archive)[seq]


def problems(report: Report, reason: Reason) -> list[str]:
    return [f"{p.where}: {p.detail}" for p in report.problems if p.reason is reason]


def test_an_untouched_archive_is_valid_with_summary_counts(filled: Archive) -> None:
    report = verify(filled)
    assert report.ok, report.lines()
    assert report.records == 34
    assert report.kinds == {"event": 30, "alert": 2, "writer_start": 1, "writer_stop": 1}
    assert report.unsigned == 0
    valid, invalid, _ = report.count("segment")
    assert (valid, invalid) == (len(filled.segments()), 0)
    assert report.count("checkpoint") == (len(filled.checkpoints()), 0, 0)
    assert report.lines()[-1] == "archive valid"


def test_one_flipped_byte_is_a_hash_mismatch_at_its_record(filled: Archive) -> None:
    path, index = locate(filled, 12)

    def flip(lines: list[bytes]) -> list[bytes]:
        line = bytearray(lines[index])
        line[line.index(b"user-")] ^= 0x01
        lines[index] = bytes(line)
        return lines

    edit(path, flip)
    report = verify(filled)
    assert not report.ok
    (mismatch,) = problems(report, Reason.HASH_MISMATCH)
    assert mismatch.startswith(f"record 12 ({path.name} line {index + 1})")
    assert report.invalid_records == 1
    assert problems(report, Reason.MODIFIED), "the sealed segment no longer matches its manifest"
    roots = problems(report, Reason.ROOT_MISMATCH)
    assert roots[0] == "checkpoint 2: records 11-20 do not hash to the signed root"
    segment_item = next(i for i in report.items if i.name == path.name)
    assert not segment_item.valid
    assert "INVALID" in "\n".join(report.lines())


def test_a_changed_record_with_a_recomputed_hash_is_located_between_checkpoints(filled: Archive) -> None:
    from pipeline.archive.segments import encode_line

    path, index = locate(filled, 15)

    def rewrite(lines: list[bytes]) -> list[bytes]:
        record = lines[index].split(b" ", 1)[1].rstrip(b"\n").replace(b'"login"', b'"logout"')
        lines[index] = encode_line(record)[0]
        return lines

    edit(path, rewrite)
    report = verify(filled)
    assert not problems(report, Reason.HASH_MISMATCH)
    assert (
        problems(report, Reason.ROOT_MISMATCH)[0]
        == "checkpoint 2: records 11-20 do not hash to the signed root"
    )


@settings(max_examples=25)
@given(st.data())
def test_any_flipped_byte_anywhere_is_found(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    archive = Archive(tmp_path_factory.mktemp("flip"))
    archive.fill(6)
    paths = archive.segments() + archive.checkpoints()
    path = data.draw(st.sampled_from(paths))
    content = bytearray(path.read_bytes())
    offset = data.draw(st.integers(0, len(content) - 1))
    content[offset] ^= data.draw(st.sampled_from([0x01, 0x02, 0x20, 0x80]))
    path.chmod(0o644)
    path.write_bytes(bytes(content))
    assert not verify(archive).ok


def test_a_deleted_record_is_missing(filled: Archive) -> None:
    path, index = locate(filled, 12)
    edit(path, lambda lines: lines[:index] + lines[index + 1 :])
    report = verify(filled)
    (missing,) = problems(report, Reason.MISSING)
    assert missing.startswith("record 13 (") and missing.endswith("record 12 missing before it")


def test_a_deleted_segment_is_missing_with_its_records(filled: Archive) -> None:
    second = filled.segments()[1]
    second.unlink()
    report = verify(filled)
    (missing,) = problems(report, Reason.MISSING)
    assert missing.startswith(f"{second.name}: segment missing; it was sealed with records ")


def test_two_swapped_records_are_reordered(filled: Archive) -> None:
    path, index = locate(filled, 12)
    assert locate(filled, 13) == (path, index + 1)

    def swap(lines: list[bytes]) -> list[bytes]:
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
        return lines

    edit(path, swap)
    report = verify(filled)
    reordered = problems(report, Reason.REORDERED)
    assert reordered == [
        f"record 13 ({path.name} line {index + 1}): stored before record 12",
        f"record 12 ({path.name} line {index + 2}): stored after record 13",
    ]
    assert not problems(report, Reason.HASH_MISMATCH)
    assert problems(report, Reason.ROOT_MISMATCH), "the signed order is part of the root"


def test_a_truncated_tail_is_found(filled: Archive) -> None:
    last = filled.segments()[-1]
    edit(last, lambda lines: lines[:-3])
    report = verify(filled)
    truncated = problems(report, Reason.TRUNCATED)
    assert (
        "the end of the log: the log ends at record 30 but checkpoint 4 signs 34: records 31-33 are gone"
        in (truncated)
    )
    assert any(t.startswith(last.name) for t in truncated), "the segment is shorter than sealed"


def test_a_partial_last_line_is_truncated(filled: Archive) -> None:
    last = filled.segments()[-1]
    edit(last, lambda lines: [*lines[:-1], lines[-1][:40]])
    report = verify(filled)
    assert (
        f"{last.name} line {len(last.read_bytes().splitlines())}: the segment ends in a partial record"
        in (problems(report, Reason.TRUNCATED))
    )


def test_a_duplicated_record_is_found(filled: Archive) -> None:
    path, index = locate(filled, 12)
    edit(path, lambda lines: [*lines[: index + 1], lines[index], *lines[index + 1 :]])
    report = verify(filled)
    duplicated = problems(report, Reason.DUPLICATED)
    first, again = f"{path.name} line {index + 1}", f"{path.name} line {index + 2}"
    assert duplicated == [f"record 12 ({again}): record 12 is stored again (first at {first})"]


def test_an_event_stored_twice_under_new_numbers_is_duplicated(archive: Archive) -> None:
    writer = archive.writer()
    writer.append_event(make_event(1))
    writer._keys.clear()  # as if the writer had forgotten what it stored
    writer.append_event(make_event(1))
    writer.close()
    (duplicated,) = problems(verify(archive), Reason.DUPLICATED)
    assert (
        duplicated.startswith("record 2 (") and "repeats the event already stored as record 1" in duplicated
    )


def test_a_checkpoint_replaced_by_an_older_one_is_found(filled: Archive) -> None:
    cps = filled.checkpoints()
    cps[-2].chmod(0o644)
    cps[-2].write_bytes(cps[1].read_bytes())
    report = verify(filled)
    older = problems(report, Reason.OLDER)
    assert older[0].startswith(
        "checkpoint 3: its file holds checkpoint 1 (size 11): replaced by an older checkpoint"
    )
    assert problems(report, Reason.CHAIN_BROKEN) == [
        "checkpoint 3: its previous hash is not that of checkpoint 2",
        "checkpoint 4: its previous hash is not that of checkpoint 3",
    ]


def test_a_rollback_to_an_older_state_is_found_against_the_trusted_checkpoint(filled: Archive) -> None:
    report = verify(filled)
    trusted = report.latest
    assert trusted is not None and report.ok
    # Roll back: drop the newest checkpoint and the records it added.
    filled.checkpoints()[-1].unlink()
    last = filled.segments()[-1]
    edit(last, lambda lines: lines[:-1])
    (last.with_name(last.stem + ".seal.json")).unlink()
    assert verify(filled).ok, "without memory, a consistent rollback looks valid"
    report = verify(filled, trusted=trusted)
    (older,) = problems(report, Reason.OLDER_THAN_TRUSTED)
    assert older.startswith(
        "checkpoint 3: the latest checkpoint (number 3, size 31) is older than the one last trusted"
    )


def test_a_checkpoint_forged_with_another_key_is_signed_by_an_unknown_key(filled: Archive) -> None:
    forger = Signer.generate()
    previous = Checkpoint.from_bytes(filled.checkpoints()[-1].read_bytes())
    forged = Checkpoint.create(
        forger,
        origin=previous.origin,
        number=previous.number + 1,
        size=previous.size,
        root=previous.root,
        time=previous.time,
        previous=previous,
    )
    filled.storage.put_once(checkpoint_name(forged.number), forged.to_bytes())
    report = verify(filled)
    (unknown,) = problems(report, Reason.UNKNOWN_KEY)
    assert unknown.startswith(f"checkpoint 5: signed by unknown key {forger.key_id[:16]}")


def test_a_checkpoint_altered_or_signed_with_another_key_under_the_real_id_has_a_bad_signature(
    filled: Archive,
) -> None:
    path = filled.checkpoints()[2]
    original = Checkpoint.from_bytes(path.read_bytes())
    altered = Checkpoint(**{**original.__dict__, "size": original.size - 1})
    path.chmod(0o644)
    path.write_bytes(altered.to_bytes())
    impostor = Signer.generate()
    fake = Checkpoint(
        **{**original.__dict__, "number": 5, "signature": impostor.sign(original.signed_message())}
    )
    filled.storage.put_once(checkpoint_name(5), fake.to_bytes())
    bad = problems(verify(filled), Reason.BAD_SIGNATURE)
    assert [b.split(":")[0] for b in bad] == ["checkpoint 2", "checkpoint 5"]


def test_rotated_keys_verify_with_both_in_the_keyring_and_fail_with_only_the_new(archive: Archive) -> None:
    archive.fill(3)
    new = Signer.generate()
    archive.signer, old = new, archive.signer
    archive.fill(3)
    assert verify_archive(archive.storage, Keyring([old.public, new.public])).ok
    report = verify_archive(archive.storage, Keyring([new.public]))
    unknown = problems(report, Reason.UNKNOWN_KEY)
    assert [u.split(":")[0] for u in unknown] == ["checkpoint 0", "checkpoint 1"]


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork(filled: Archive) -> None:
    chain = [Checkpoint.from_bytes(p.read_bytes()) for p in filled.checkpoints()]
    other_root = bytes(32)
    fork = Checkpoint.create(
        filled.signer,
        origin=chain[-1].origin,
        number=chain[-1].number + 1,
        size=chain[2].size,
        root=other_root,
        time=chain[-1].time,
        previous=chain[-1],
    )
    filled.storage.put_once(checkpoint_name(fork.number), fork.to_bytes())
    forks = problems(verify(filled), Reason.FORK)
    assert forks == ["checkpoint 5: checkpoints 2 and 5 both sign size 21 with different roots"]


def test_a_fork_from_the_trusted_history_is_found_by_consistency_proof(
    filled: Archive, tmp_path: Path
) -> None:
    twin = Archive(tmp_path / "twin", signer=filled.signer, clock=filled.clock, settings=filled.settings)
    shutil.copytree(filled.root, twin.root)
    writer = filled.writer()
    writer.append_event(make_event(100))
    writer.close()
    other = twin.writer()
    other.append_event(make_event(200))
    other.append_event(make_event(201))
    other.close()
    trusted = verify(filled).latest
    assert trusted is not None
    report = verify(twin, trusted=trusted)
    forks = problems(report, Reason.FORK)
    assert forks and "not an extension of the trusted checkpoint" in forks[0], report.lines()
    assert verify(twin, trusted=verify(twin).latest).ok


def test_from_a_checkpoint_skips_the_older_ones_and_trusts_it(filled: Archive) -> None:
    filled.checkpoints()[0].chmod(0o644)
    filled.checkpoints()[0].write_bytes(b"garbage")
    assert not verify(filled).ok
    report = verify(filled, start=2)
    assert report.count("checkpoint")[2] == 2
    assert report.trusted is not None and report.trusted.number == 2
