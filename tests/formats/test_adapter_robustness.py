"""Property tests: random and mutated records never crash ingest.

Every record, however damaged, ends as events that validate and serialise, or as a
rejection with a reason. The adapters themselves may only raise ``RecordRejected``
(ingest would turn other exceptions into a vaguer "could not be normalised").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.events import AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats import FormatAdapter, FormatContext, decode_text, default_registry
from pipeline.formats.cloudtrail import CloudTrailAdapter
from pipeline.formats.ecs import EcsAdapter
from pipeline.formats.files import iter_file_records
from pipeline.formats.github_audit import GitHubAuditAdapter
from pipeline.formats.k8s_audit import K8sAuditAdapter
from pipeline.formats.ocsf import OcsfAdapter
from pipeline.formats.okta import OktaAdapter
from pipeline.formats.syslog_auth import SyslogAuthAdapter
from pipeline.ingest import Accepted, Rejection, accept_record

DATA = Path(__file__).parent / "data"
CTX = FormatContext(default_year=2024)
PROPERTY = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _fixtures() -> tuple[list[bytes], list[dict[str, Any]], list[str]]:
    raws: list[bytes] = []
    for path in sorted([*DATA.glob("samples/*"), *DATA.glob("written/*")]):
        raws.extend(record.raw for record in iter_file_records(path))
    objects = [json.loads(raw) for raw in raws if raw.lstrip()[:1] == b"{"]
    lines = [raw.decode() for raw in raws if raw.lstrip()[:1] != b"{"]
    return raws, objects, lines


RAWS, OBJECTS, LINES = _fixtures()

_text = st.text(st.characters(codec="utf-8"), max_size=40)
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
)
_junk = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_huge = st.integers(min_value=1_000, max_value=200_000).map(lambda n: "x" * n)


_VALUES = {
    "null": st.none(),
    "int": st.integers(min_value=-(2**70), max_value=2**70),
    "huge": _huge,
    "junk": _junk,
    "text": _text,
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(child, (*prefix, index)))
    return found


@st.composite
def mutated_objects(draw: st.DrawFn, pool: list[dict[str, Any]] = OBJECTS) -> dict[str, Any]:
    """A fixture record with a few keys dropped or set to nulls, ints, huge strings, junk."""
    record = copy.deepcopy(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(record)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        node: Any = record
        for step in parents:
            node = node[step]
        operation = draw(st.sampled_from(["drop", "null", "int", "huge", "junk", "text"]))
        if operation == "drop":
            del node[last]
        else:
            node[last] = draw(_VALUES[operation])
    return record


@st.composite
def mutated_lines(draw: st.DrawFn) -> str:
    """A syslog fixture line with a slice replaced by random text or digits."""
    line = draw(st.sampled_from(LINES))
    start = draw(st.integers(min_value=0, max_value=len(line)))
    end = draw(st.integers(min_value=start, max_value=len(line)))
    filler = draw(_text | st.integers(min_value=0, max_value=10**12).map(str) | _huge)
    return line[:start] + filler + line[end:]


def _check(result: Accepted | Rejection) -> None:
    if isinstance(result, Rejection):
        assert result.reason.strip()
        return
    for event in result.events:
        assert isinstance(event, AuditEvent)
        again = AuditEvent.model_validate_json(event.model_dump_json())
        assert again.event_id == event.event_id


@PROPERTY
@given(record=mutated_objects())
def test_mutated_json_records(record: dict[str, Any]) -> None:
    payload = json.dumps(record).encode()
    _check(accept_record(payload, default_registry(), CTX))


@PROPERTY
@given(line=mutated_lines())
def test_mutated_syslog_lines(line: str) -> None:
    _check(accept_record(line.encode(), default_registry(), CTX))


@PROPERTY
@given(raw=st.sampled_from(RAWS), data=st.data())
def test_truncated_records(raw: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    _check(accept_record(raw[:cut], default_registry(), CTX))


@PROPERTY
@given(payload=st.binary(max_size=300))
def test_random_bytes(payload: bytes) -> None:
    _check(accept_record(payload, default_registry(), CTX))


ADAPTERS: list[tuple[FormatAdapter, str]] = [
    (CloudTrailAdapter(), "cloudtrail"),
    (K8sAuditAdapter(), "k8s_audit"),
    (OktaAdapter(), "okta"),
    (GitHubAuditAdapter(), "github_audit"),
    (OcsfAdapter(), "ocsf"),
    (EcsAdapter(), "ecs"),
]


def _own(name: str) -> list[dict[str, Any]]:
    return [
        record for record in OBJECTS if default_registry().adapter_for(record, None).name == name
    ]


@PROPERTY
@given(data=st.data())
def test_each_adapter_rejects_only_with_record_rejected(data: st.DataObject) -> None:
    """Pinned to its own format, an adapter fed its damaged records raises nothing else."""
    adapter, name = data.draw(st.sampled_from(ADAPTERS))
    record = data.draw(mutated_objects(_own(name)))
    try:
        events = adapter.adapt(decode_text(json.dumps(record)), CTX)
    except RecordRejected as exc:
        assert exc.reason.strip()
    else:
        assert all(isinstance(event, AuditEvent) for event in events)


@PROPERTY
@given(line=mutated_lines())
def test_the_syslog_adapter_rejects_only_with_record_rejected(line: str) -> None:
    adapter = SyslogAuthAdapter()
    try:
        adapter.adapt(line.strip(), CTX)
    except RecordRejected as exc:
        assert exc.reason.strip()


@PROPERTY
@given(base=st.sampled_from(OBJECTS), data=st.data())
def test_random_values_under_a_formats_keys(base: dict[str, Any], data: st.DataObject) -> None:
    """A few of a format's top-level values kept (so detection fires), the rest random."""
    kept = data.draw(st.sets(st.sampled_from(sorted(base)), max_size=4))
    record = {key: base[key] if key in kept else data.draw(_junk) for key in base}
    _check(accept_record(json.dumps(record).encode(), default_registry(), CTX))
