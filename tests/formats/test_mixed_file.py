"""A file mixing every format with broken records: each good record is accepted and each
broken one rejected with its line number and a reason (issue 3's acceptance test, at the
``accept_record`` level; the expectations per line are in the ``.expected.json`` file)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.formats import FormatContext, default_registry
from pipeline.formats.files import iter_file_records
from pipeline.ingest import Accepted, Rejection, accept_record


def _expected(data_dir: Path) -> dict[int, dict[str, object]]:
    spec = json.loads((data_dir / "mixed_with_broken.expected.json").read_text())
    return {int(line): expectation for line, expectation in spec["lines"].items()}


def test_every_line_is_accepted_or_rejected_as_expected(data_dir: Path, ctx: FormatContext) -> None:
    expected = _expected(data_dir)
    registry = default_registry()
    seen = set()
    for record in iter_file_records(data_dir / "mixed_with_broken.log"):
        seen.add(record.line_number)
        result = accept_record(record.raw, registry, ctx)
        want = expected[record.line_number]
        where = f"line {record.line_number}"
        if "rejected" in want:
            assert isinstance(result, Rejection), f"{where}: accepted, expected {want}"
            assert result.reason, f"{where}: empty reason"
            assert str(want["rejected"]) in result.reason, f"{where}: {result.reason}"
        else:
            assert isinstance(result, Accepted), f"{where}: {result}"
            assert len(result.events) == want["events"], where
    assert seen == set(expected), "the file and its expectations cover the same lines"


def test_the_file_mixes_every_format_and_enough_kinds_of_breakage(
    data_dir: Path, ctx: FormatContext
) -> None:
    expected = _expected(data_dir)
    registry = default_registry()
    systems = set()
    for record in iter_file_records(data_dir / "mixed_with_broken.log"):
        result = accept_record(record.raw, registry, ctx)
        if isinstance(result, Accepted):
            systems.update(event.origin.system for event in result.events)
    assert {"aws.cloudtrail", "k8s.audit", "okta", "github.audit", "linux.sshd"} <= systems
    assert {"linux.auth", "CloudTrail", "system.auth", "acme.sso"} <= systems  # OCSF, ECS, own
    reasons = {str(want["rejected"]) for want in expected.values() if "rejected" in want}
    assert len(reasons) >= 10


def test_oddities_of_good_records_are_kept_in_extra(data_dir: Path, ctx: FormatContext) -> None:
    registry = default_registry()
    extras = []
    for record in iter_file_records(data_dir / "mixed_with_broken.log"):
        result = accept_record(record.raw, registry, ctx)
        if isinstance(result, Accepted):
            extras.extend(event.extra for event in result.events)
    notes = [extra["source_address_note"] for extra in extras if "source_address_note" in extra]
    assert any("leading zeros" in note for note in notes)
    assert any("neither an IP address nor a host name" in note for note in notes)
    assert any("time_invalid" in extra for extra in extras)
