"""Reading records from files: JSON lines, documents split per entry, gzip, directory trees."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.formats import FormatContext, default_registry
from pipeline.formats.files import FileRecord, iter_file_records
from pipeline.ingest import Accepted, Rejection, accept_record

DATA = Path(__file__).parent / "data"


def _entry(number: int) -> dict[str, object]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::1:user/u{number}"},
        "eventTime": "2024-01-01T00:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "eventID": f"id-{number}",
    }


def test_json_lines_one_record_per_non_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"b": 2}\r\n  \n{"c": 3}')
    assert list(iter_file_records(path)) == [
        FileRecord(str(path), 1, b'{"a": 1}'),
        FileRecord(str(path), 3, b'{"b": 2}'),
        FileRecord(str(path), 5, b'{"c": 3}'),
    ]


def test_a_records_document_is_split_with_the_line_each_entry_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": [_entry(1), _entry(2)]}, indent=2))
    records = list(iter_file_records(path))
    assert [json.loads(record.raw)["eventID"] for record in records] == ["id-1", "id-2"]
    lines = path.read_text().splitlines()
    for record in records:
        assert lines[record.line_number - 1].strip().startswith("{")
    assert records[0].line_number < records[1].line_number


def test_a_one_line_records_file_is_split_too(tmp_path: Path) -> None:
    """CloudTrail writes its S3 objects as one line; each entry must be its own record."""
    path = tmp_path / "trail.json"
    raw = json.dumps({"Records": [_entry(1), _entry(2), _entry(3)]}, separators=(",", ":"))
    path.write_text(raw)
    records = list(iter_file_records(path))
    assert [record.line_number for record in records] == [1, 1, 1]
    assert [json.loads(record.raw) for record in records] == [_entry(1), _entry(2), _entry(3)]
    assert all(record.raw.decode() in raw for record in records), "entries are verbatim"


def test_a_top_level_array_is_split(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_bytes((DATA / "samples" / "github_audit_log_rest_example.json").read_bytes())
    records = list(iter_file_records(path))
    assert [record.line_number for record in records] == [2, 12, 20]


def test_a_pretty_printed_single_event_is_one_record(tmp_path: Path) -> None:
    path = DATA / "samples" / "okta_system_log_user_session_start.json"
    (record,) = iter_file_records(path)
    assert json.loads(record.raw) == json.loads(path.read_text())


def test_gzip_is_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(json.dumps({"Records": [_entry(1)]}).encode()))
    (record,) = iter_file_records(path)
    assert json.loads(record.raw)["eventID"] == "id-1"


def test_a_directory_in_cloudtrail_s3_layout_is_read_in_sorted_order(tmp_path: Path) -> None:
    day = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/{:02d}"
    for number, (dd, name) in enumerate([(2, "b.json.gz"), (1, "z.json.gz"), (1, "a.json.gz")]):
        folder = tmp_path / day.format(dd)
        folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": [_entry(number)]}).encode()
        (folder / name).write_bytes(gzip.compress(body))
    (tmp_path / "AWSLogs" / "notes.txt").write_text("not a record file")
    (tmp_path / ".hidden.json").write_text(json.dumps(_entry(9)))
    records = list(iter_file_records(tmp_path))
    names = [Path(record.file_name).relative_to(tmp_path).as_posix() for record in records]
    assert [name.removeprefix(day.format(1)[:-2]) for name in names] == [
        "01/a.json.gz",
        "01/z.json.gz",
        "02/b.json.gz",
    ]
    assert [json.loads(record.raw)["eventID"] for record in records] == ["id-2", "id-1", "id-0"]


def test_a_directory_of_samples_is_all_accepted(ctx: FormatContext) -> None:
    registry = default_registry()
    results = [accept_record(r.raw, registry, ctx) for r in iter_file_records(DATA / "samples")]
    assert results and all(isinstance(result, Accepted) for result in results)


def test_a_line_that_is_not_utf8_reaches_ingest_with_its_line_number(
    tmp_path: Path, ctx: FormatContext
) -> None:
    path = tmp_path / "auth.log"
    path.write_bytes(b"Dec 10 06:55:46 h sshd[1]: ok\nDec 10 06:55:47 h sshd[1]: \xff bad\n")
    records = list(iter_file_records(path))
    assert [record.line_number for record in records] == [1, 2]
    result = accept_record(records[1].raw, default_registry(), ctx)
    assert isinstance(result, Rejection) and "not valid UTF-8" in result.reason


def test_truncated_json_document_falls_back_to_lines(tmp_path: Path, ctx: FormatContext) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{\n  "Records": [\n    {"eventVersion": "1.08"\n')
    records = list(iter_file_records(path))
    assert [record.line_number for record in records] == [1, 2, 3]
    for record in records:
        result = accept_record(record.raw, default_registry(), ctx)
        assert isinstance(result, Rejection) and result.reason


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"b": 2}\n')
    assert [record.raw for record in iter_file_records(path)] == [b'{"a": 1}', b'{"b": 2}']


def test_empty_and_missing_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"\n  \n")
    assert list(iter_file_records(empty)) == []
    with pytest.raises(InputError, match="no such file or directory"):
        list(iter_file_records(tmp_path / "missing.json"))


def test_a_corrupt_gzip_stream_names_the_file_after_the_lines_before_it(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    body = b"".join(json.dumps(_entry(n)).encode() + b"\n" for n in range(2000))
    path.write_bytes(gzip.compress(body)[:-200])
    records: list[FileRecord] = []
    with pytest.raises(InputError, match=r"cut\.jsonl\.gz: cannot read"):
        for record in iter_file_records(path):
            records.append(record)
    assert records, "records before the damage are still yielded"
