"""Canonical serialisation: the bytes are pinned by a golden file, and stable under round trips."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.events import AuditEvent
from pipeline.archive.canonical import canonical_json, canonical_time, parse_time, reference_json
from pipeline.archive.errors import CanonicalError, RecordFormatError
from pipeline.archive.merkle import leaf_hash
from pipeline.archive.records import Kind, Record, alert_record, event_record, writer_record
from tests.archive.helpers import T0, make_alert, make_event

GOLDEN = Path(__file__).parent / "data" / "golden_records_v1.txt"


def golden_records() -> dict[str, Record]:
    event = make_event(
        7,
        time="2026-01-01T10:14:03.25+01:00",
        ingested_time="2026-01-01T09:14:04Z",
        raw={
            "b": [1, 2.5, 1e-7, 1e21, 3.0, -0.0, None, 0.000001, 123456789012345680000.0],
            "a": 'é \u2028 \t \x01 "q" \\ \ud800',
            "\u00e9": 1,
            "\U0001f600": "astral key sorts by UTF-16",
            "\uff61": "sorts after the astral key",
            "z": {"y": True},
            "big": 12345678901234567890,
        },
        extra={"note": "ok"},
    )
    return {
        "event": event_record(event, 0, T0),
        "alert": alert_record(make_alert(1), 1, T0 + timedelta(microseconds=5)),
        "writer_start": writer_record(
            Kind.WRITER_START, 2, T0, {"origin": "auditwatch/test", "previous_size": 2}
        ),
        "writer_stop": writer_record(Kind.WRITER_STOP, 3, T0 + timedelta(hours=1), {"previous_size": 3}),
    }


def render_golden() -> bytes:
    lines = [b"# name leaf-hash canonical-record (format version 1); see tests/archive/data/README.md"]
    for name, record in golden_records().items():
        data = record.to_bytes()
        lines.append(name.encode() + b" " + leaf_hash(data).hex().encode() + b" " + data)
    return b"\n".join(lines) + b"\n"


def test_golden_file_pins_the_canonical_bytes_and_leaf_hashes() -> None:
    assert render_golden() == GOLDEN.read_bytes(), (
        "the canonical form changed: that changes every leaf hash, so it needs a new format version"
    )


def test_golden_records_read_back_to_the_same_bytes() -> None:
    for line in GOLDEN.read_bytes().splitlines()[1:]:
        _, digest, data = line.split(b" ", 2)
        record = Record.from_bytes(data)
        assert record.to_bytes() == data
        assert leaf_hash(data).hex().encode() == digest


def test_an_event_after_the_events_topic_gives_the_same_leaf() -> None:
    """The worker archives what it reads from audit.events; replay archives the event itself."""
    event = make_event(3, raw={"x": 1.5, "t": "2026-01-01T00:00:00+02:00"})
    from_topic = AuditEvent.model_validate_json(event.model_dump_json().encode())
    assert event_record(from_topic, 5, T0).to_bytes() == event_record(event, 5, T0).to_bytes()


def test_times_are_normalised_to_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    assert canonical_time(datetime(2026, 1, 1, 10, 0, tzinfo=berlin)) == "2026-01-01T09:00:00Z"
    assert canonical_time(datetime(2026, 1, 1, 9, 0, 0, 1, tzinfo=UTC)) == "2026-01-01T09:00:00.000001Z"
    assert parse_time("2026-01-01T09:00:00Z") == datetime(2026, 1, 1, 9, tzinfo=UTC)
    with pytest.raises(CanonicalError, match="no time zone"):
        canonical_time(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (4.5, "4.5"),
        (0.002, "0.002"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (333333333.3333333, "333333333.3333333"),
        (-1.5e-300, "-1.5e-300"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_floats_as_ecmascript_prints_them(value: float, text: str) -> None:
    assert canonical_json(value).decode() == text


@pytest.mark.parametrize("bad", [math.nan, math.inf, [1.5, -math.inf], {"a": object()}, datetime(2026, 1, 1)])
def test_values_without_a_canonical_form_are_refused(bad: Any) -> None:
    with pytest.raises(CanonicalError):
        canonical_json(bad)


def test_the_reference_encoder_refuses_keys_that_are_not_strings() -> None:
    with pytest.raises(CanonicalError, match="not a string"):
        reference_json({1: "x"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_compact_sorted_and_stable(value: Any) -> None:
    data = canonical_json(value)
    again = canonical_json(json.loads(data))
    assert again == data
    parsed = json.loads(data)
    assert json.dumps(parsed) == json.dumps(json.loads(again))


@given(st.dictionaries(st.text(max_size=6), st.integers(), max_size=6))
def test_keys_are_sorted_by_utf16_code_units(value: dict[str, int]) -> None:
    keys = list(json.loads(canonical_json(value)))
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"a":1}', "wrong fields"),
        (
            b'{"archived":"t","data":{},"key":null,"kind":"event","seq":0,"time":"t","v":2}',
            "unknown record format version 2",
        ),
        (
            b'{"archived":"t","data":{},"key":null,"kind":"gossip","seq":0,"time":"t","v":1}',
            "unknown record kind",
        ),
        (
            b'{"archived":"t", "data":{},"key":null,"kind":"event","seq":0,"time":"t","v":1}',
            "not in canonical form",
        ),
        (
            b'{"archived":"t","data":{},"key":null,"kind":"event","seq":-1,"time":"t","v":1}',
            "bad sequence number",
        ),
    ],
)
def test_stored_bytes_that_are_not_a_canonical_record_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason):
        Record.from_bytes(data)


any_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@given(any_values)
def test_the_fast_path_gives_exactly_the_reference_bytes(value: Any) -> None:
    assert canonical_json(value) == reference_json(value)


def test_the_fast_path_gives_the_reference_bytes_for_models() -> None:
    for name, record in golden_records().items():
        fields = {
            "archived": record.archived,
            "data": record.data,
            "key": list(record.key) if record.key else None,
            "kind": record.kind,
            "seq": record.seq,
        }
        assert canonical_json(fields) == reference_json(fields), name


def test_stored_floats_must_be_in_their_canonical_form() -> None:
    template = '{"archived":"t","data":{"x":%s},"key":null,"kind":"writer_start","seq":0,"time":"t","v":1}'
    assert Record.from_bytes((template % "2.5").encode()).data == {"x": 2.5}
    assert Record.from_bytes((template % "1e-7").encode()).data == {"x": 1e-7}
    for written in ("3.0", "1e-07", "2.50", "-0"):
        with pytest.raises(RecordFormatError, match="not in canonical form"):
            Record.from_bytes((template % written).encode())
