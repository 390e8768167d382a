"""Format detection: each format is recognised from the record itself, in a sensible order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.formats import FormatAdapter, FormatContext, decode_text, default_registry
from pipeline.formats.cloudtrail import CloudTrailAdapter
from pipeline.formats.ecs import EcsAdapter
from pipeline.formats.files import iter_file_records
from pipeline.formats.github_audit import GitHubAuditAdapter
from pipeline.formats.k8s_audit import K8sAuditAdapter
from pipeline.formats.native import NativeAdapter
from pipeline.formats.ocsf import OcsfAdapter
from pipeline.formats.okta import OktaAdapter
from pipeline.formats.syslog_auth import SyslogAuthAdapter
from pipeline.ingest import Rejection, accept_record

DATA = Path(__file__).parent / "data"
ADAPTER_OF_FILE = {
    "cloudtrail": "cloudtrail",
    "k8s_audit": "k8s_audit",
    "okta": "okta",
    "github_audit": "github_audit",
    "sshd_auth": "syslog_auth",
    "ocsf": "ocsf",
    "ecs": "ecs",
}
ALL: list[FormatAdapter] = [
    CloudTrailAdapter(),
    K8sAuditAdapter(),
    OktaAdapter(),
    OcsfAdapter(),
    GitHubAuditAdapter(),
    EcsAdapter(),
    SyslogAuthAdapter(),
    NativeAdapter(),
]
ALSO_CLAIMED_BY = {"github_audit": {"auditwatch"}}
"""Known overlaps, settled by order: auditwatch's own test accepts any action plus actor."""


def _records() -> list[tuple[str, str, bytes]]:
    out = []
    for path in sorted([*DATA.glob("samples/*"), *DATA.glob("written/*")]):
        expected = next(
            name for prefix, name in ADAPTER_OF_FILE.items() if path.name.startswith(prefix)
        )
        for record in iter_file_records(path):
            out.append((f"{path.name}:{record.line_number}", expected, record.raw))
    return out


@pytest.mark.parametrize(("where", "expected", "raw"), _records(), ids=lambda v: str(v)[:40])
def test_each_sample_is_detected_as_its_format(where: str, expected: str, raw: bytes) -> None:
    registry = default_registry()
    record = decode_text(raw.decode())
    assert registry.adapter_for(record, None).name == expected, where
    claimed = {adapter.name for adapter in ALL if adapter.detect(record)}
    assert claimed - {expected} <= ALSO_CLAIMED_BY.get(expected, set()), where


def test_specific_formats_are_tried_before_the_native_schema() -> None:
    names = default_registry().names
    assert names == [adapter.name for adapter in ALL]
    assert names[-1] == "auditwatch"
    assert names.index("github_audit") < names.index("auditwatch")


@pytest.mark.parametrize(
    "payload",
    [b'{"foo": "bar"}', b"{}", b"hello world", b"2024-01-01 not syslog", b'{"kind": "Event"}'],
)
def test_an_unknown_format_is_rejected_as_unrecognised(payload: bytes, ctx: FormatContext) -> None:
    result = accept_record(payload, default_registry(), ctx)
    assert isinstance(result, Rejection)
    assert result.reason.startswith("unrecognised format")


def test_a_pinned_format_skips_detection() -> None:
    raw = (DATA / "samples" / "k8s_audit_allowed.elastic-integrations.jsonl").read_bytes()
    pinned = FormatContext(pinned_format="okta")
    result = accept_record(raw, default_registry(), pinned)
    assert isinstance(result, Rejection)
    assert result.reason == "published: required field is missing or null"


def test_detection_never_raises_on_odd_json_values() -> None:
    odd: list[object] = [
        {"Records": None},
        {"kind": "Event", "apiVersion": 3},
        {"eventType": None, "published": None, "uuid": None},
        {"action": 1, "created_at": "x", "org": None},
        {"class_uid": "x", "metadata": 5},
        {"@timestamp": None, "event": []},
        {"schema_version": None},
    ]
    for record in odd:
        for adapter in ALL:
            adapter.detect(record)
