"""Kubernetes audit: stages, deduplication, source IPs, EventList, categories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext
from pipeline.formats.k8s_audit import K8sAuditAdapter


@pytest.fixture
def allowed(sample: Callable[[str], Any]) -> dict[str, Any]:
    record: dict[str, Any] = sample("k8s_audit_allowed.elastic-integrations.jsonl")[0]
    return record


def _stage(record: dict[str, Any], stage: str, audit_id: str | None = None) -> dict[str, Any]:
    changed = dict(record, stage=stage)
    if audit_id is not None:
        changed["auditID"] = audit_id
    return changed


def test_only_the_final_stage_is_kept_by_default(
    allowed: dict[str, Any], ctx: FormatContext
) -> None:
    adapter = K8sAuditAdapter()
    assert adapter.adapt(_stage(allowed, "RequestReceived"), ctx) == []
    assert adapter.adapt(_stage(allowed, "ResponseStarted"), ctx) == []
    (event,) = adapter.adapt(allowed, ctx)
    assert event.event_id == "abcde12345"
    (panic,) = adapter.adapt(_stage(allowed, "Panic"), ctx)
    assert panic.event_id == "abcde12345:Panic"


def test_stages_are_configurable(allowed: dict[str, Any], ctx: FormatContext) -> None:
    adapter = K8sAuditAdapter(stages={"RequestReceived", "ResponseComplete"})
    (received,) = adapter.adapt(_stage(allowed, "RequestReceived"), ctx)
    (complete,) = adapter.adapt(allowed, ctx)
    assert received.event_id == "abcde12345:RequestReceived"
    assert complete.event_id == "abcde12345"
    assert received.extra["stage"] == "RequestReceived"


def test_the_same_audit_id_and_stage_counts_once(
    allowed: dict[str, Any], ctx: FormatContext
) -> None:
    adapter = K8sAuditAdapter()
    assert len(adapter.adapt(allowed, ctx)) == 1
    assert adapter.adapt(dict(allowed), ctx) == []


def test_dedup_state_is_bounded(allowed: dict[str, Any], ctx: FormatContext) -> None:
    adapter = K8sAuditAdapter(dedup_size=2)
    for audit_id in ("a", "b", "c"):
        assert len(adapter.adapt(_stage(allowed, "ResponseComplete", audit_id), ctx)) == 1
    # "a" has been forgotten: seen again, it is an event again.
    assert len(adapter.adapt(_stage(allowed, "ResponseComplete", "a"), ctx)) == 1
    assert adapter.adapt(_stage(allowed, "ResponseComplete", "c"), ctx) == []


def test_a_rejected_record_is_not_remembered(allowed: dict[str, Any], ctx: FormatContext) -> None:
    adapter = K8sAuditAdapter()
    broken = dict(allowed)
    del broken["verb"]
    with pytest.raises(RecordRejected, match="verb: required field is missing"):
        adapter.adapt(broken, ctx)
    assert len(adapter.adapt(allowed, ctx)) == 1


def test_source_ip_choice(allowed: dict[str, Any], ctx: FormatContext) -> None:
    proxied = dict(allowed, sourceIPs=["203.0.113.9", "10.0.0.1"])
    (first,) = K8sAuditAdapter().adapt(proxied, ctx)
    assert str(first.source.ip) == "203.0.113.9"
    assert first.extra["source_ips"] == ["203.0.113.9", "10.0.0.1"]
    (last,) = K8sAuditAdapter(source_ip_index=-1).adapt(proxied, ctx)
    assert str(last.source.ip) == "10.0.0.1"


def test_event_list_yields_its_kept_items(allowed: dict[str, Any], ctx: FormatContext) -> None:
    batch = {
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "items": [
            _stage(allowed, "RequestReceived", "x"),
            _stage(allowed, "ResponseComplete", "x"),
            _stage(allowed, "ResponseComplete", "y"),
        ],
    }
    events = K8sAuditAdapter().adapt(batch, ctx)
    assert [event.event_id for event in events] == ["x", "y"]
    batch["items"] = [allowed, 5]
    with pytest.raises(RecordRejected, match=r"items\[1\]"):
        K8sAuditAdapter().adapt(batch, ctx)


@pytest.mark.parametrize(
    ("verb", "resource", "code", "category", "outcome"),
    [
        ("create", "rolebindings", 201, "account_change", "success"),
        ("delete", "serviceaccounts", 200, "account_change", "success"),
        ("create", "pods", 201, "entity_management", "success"),
        ("list", "secrets", 200, "api_activity", "success"),
        ("get", "pods", 401, "authentication", "failure"),
        ("create", "tokenreviews", 201, "authentication", "success"),
        ("delete", "pods", 403, "authorization", "failure"),
        ("patch", "deployments", 409, "entity_management", "failure"),
    ],
)
def test_categories(
    allowed: dict[str, Any],
    ctx: FormatContext,
    verb: str,
    resource: str,
    code: int,
    category: str,
    outcome: str,
) -> None:
    record = dict(
        allowed,
        verb=verb,
        objectRef={"resource": resource, "namespace": "default", "apiVersion": "v1"},
        responseStatus={"code": code},
        annotations={},
    )
    (event,) = K8sAuditAdapter().adapt(record, ctx)
    assert (event.category.value, event.outcome.value) == (category, outcome)
    assert event.origin.service == "core"


def test_a_non_resource_request(allowed: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(allowed, requestURI="/healthz")
    del record["objectRef"]
    (event,) = K8sAuditAdapter().adapt(record, ctx)
    assert event.resource is not None
    assert (event.resource.type, event.resource.name) == ("nonResourceURL", "/healthz")


@pytest.mark.parametrize(
    ("username", "kind"),
    [
        ("system:serviceaccount:ns:sa", "service"),
        ("system:node:worker-1", "system"),
        ("system:anonymous", "unknown"),
        ("jane@example.com", "human"),
    ],
)
def test_actor_types(allowed: dict[str, Any], ctx: FormatContext, username: str, kind: str) -> None:
    (event,) = K8sAuditAdapter().adapt(dict(allowed, user={"username": username}), ctx)
    assert event.actor.type.value == kind


def test_without_audit_id_the_id_is_derived_and_noted(
    allowed: dict[str, Any], ctx: FormatContext
) -> None:
    record = dict(allowed)
    del record["auditID"]
    (event,) = K8sAuditAdapter().adapt(record, ctx)
    assert len(event.event_id) == 64
    assert any("auditID" in note for note in event.extra["oddities"])
