"""Kubernetes API-server audit events (``audit.k8s.io/v1`` ``Event`` and ``EventList``).

The API server logs one request several times, once per stage
(``RequestReceived``, ``ResponseStarted``, ``ResponseComplete``, ``Panic``).
Counting each stage would count each request two to four times, so the adapter
keeps only the stages it is given: by default ``ResponseComplete``, the one
record of a request that carries its outcome, and ``Panic``, which replaces
``ResponseComplete`` for a request the server crashed on (dropping it would
lose that request). A record of a dropped stage yields no event. The same
auditID and stage seen again (a webhook retry, a log shipped twice) is dropped
too, remembering the last ``dedup_size`` keys.

=========================  ==================================================
Kubernetes                 canonical
=========================  ==================================================
auditID                    event_id (``auditID`` for ResponseComplete,
                           ``auditID:stage`` otherwise), source_event_id,
                           request_id
requestReceivedTimestamp   time, original_time (verbatim); else
                           ``timestamp`` (older API servers), else
                           ``stageTimestamp``
verb                       action (``get``, ``create``, ``delete``...)
user.username              actor.id and actor.name
user.groups                actor.roles
impersonatedUser.username  actor.authenticated_as (who the request ran as)
sourceIPs[i]               source.ip (or source.domain), i is source_ip_index
                           (0 by default); the whole list in
                           extra.source_ips when it has more than one entry
userAgent                  source.user_agent
objectRef                  resource: ``resource[/subresource]`` as type,
                           name, namespace, uid as id; a non-resource URL has
                           type ``nonResourceURL`` and the URL as name
objectRef.apiGroup         origin.service (``core`` for the core group)
responseStatus.code        outcome (below 400 success, else failure); without
                           a code, the ``authorization.k8s.io/decision``
                           annotation; else unknown
responseStatus.message     reason (else responseStatus.reason, else the
                           authorization reason annotation)
stage, requestURI, level   extra.stage, extra.request_uri, extra.level
annotations                extra.authz_decision, extra.authz_reason (their
                           keys contain dots, which field paths cannot name)
=========================  ==================================================

Actor types: ``system:serviceaccount:*`` is a service, ``system:anonymous`` is
unknown, any other ``system:*`` user (nodes, controllers) is system, and
everyone else is human.

Categories: 401 is ``authentication``, 403 or a ``forbid`` decision is
``authorization`` (a denial); ``tokenreviews`` is ``authentication``; writes to
service accounts and RBAC objects are ``account_change``; other writes are
``entity_management``; reads are ``api_activity``.

Which source IP to trust: the API server lists the ``X-Forwarded-For``
addresses, then ``X-Real-Ip``, then the connection's own peer. The first entry
is therefore the original client whenever a load balancer or proxy in front
of the API server forwards for it, which is the usual managed-cluster layout;
the last entry would then be the proxy and every request would seem to come
from it. The first entry can, however, be set by a client that reaches the API
server directly. Clusters without a forwarding proxy should pass
``source_ip_index=-1`` (trust only the connection peer); the full list is kept
in ``extra.source_ips`` either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from detectors.events import ActorType, AuditEvent, Category, Outcome
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecentKeys,
    RecordView,
    build_event,
    choose_event_id,
    classify_address,
    iso_time,
)
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["DEFAULT_STAGES", "SYSTEM", "K8sAuditAdapter"]

SYSTEM = "k8s.audit"
DEFAULT_STAGES = frozenset({"ResponseComplete", "Panic"})

_TIME_FIELDS = ("requestReceivedTimestamp", "timestamp", "stageTimestamp")
_WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
_ACCOUNT_RESOURCES = frozenset(
    {
        "serviceaccounts",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
        "users",
        "groups",
    }
)
_AUTHN_RESOURCES = frozenset({"tokenreviews", "serviceaccounts/token"})
_DECISION = "authorization.k8s.io/decision"
_DECISION_REASON = "authorization.k8s.io/reason"


class K8sAuditAdapter:
    """Kubernetes audit events; keeps the configured stages, dedupes by auditID and stage."""

    name = "k8s_audit"

    def __init__(
        self,
        stages: Iterable[str] = DEFAULT_STAGES,
        source_ip_index: int = 0,
        dedup_size: int = 10_000,
    ) -> None:
        self.stages = frozenset(stages)
        self.source_ip_index = source_ip_index
        self._seen = RecentKeys(dedup_size)

    def detect(self, record: DecodedRecord) -> bool:
        if not isinstance(record, dict) or record.get("kind") not in ("Event", "EventList"):
            return False
        version = record.get("apiVersion")
        return isinstance(version, str) and version.startswith("audit.k8s.io/")

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("a Kubernetes audit record must be a JSON object")
        if record.get("kind") != "EventList":
            event = self._event(record, ctx)
            return [] if event is None else [event]
        items = record.get("items")
        if not isinstance(items, list):
            raise RecordRejected("items: an EventList needs an array of events", "items")
        events = []
        for index, item in enumerate(items):
            try:
                event = self._event(item, ctx)
            except RecordRejected as exc:
                field = f"items[{index}].{exc.field}" if exc.field else f"items[{index}]"
                raise RecordRejected(f"items[{index}]: {exc.reason}", field) from None
            if event is not None:
                events.append(event)
        return events

    def _event(self, item: Any, ctx: FormatContext) -> AuditEvent | None:
        if not isinstance(item, dict):
            raise RecordRejected("a Kubernetes audit event must be a JSON object")
        view = RecordView(item)
        stage = view.text("stage")
        if stage is not None and stage not in self.stages:
            return None
        audit_id = view.text("auditID")
        if audit_id is not None and (audit_id, stage) in self._seen:
            return None
        event = _build(view, item, stage, audit_id, self.source_ip_index, ctx)
        if audit_id is not None:
            # Remembered only once accepted: a corrected re-send of a rejected record still counts.
            self._seen.add((audit_id, stage))
        return event


def _build(
    view: RecordView,
    item: dict[str, Any],
    stage: str | None,
    audit_id: str | None,
    source_ip_index: int,
    ctx: FormatContext,
) -> AuditEvent:
    extra: dict[str, Any] = {}
    time_field = next((f for f in _TIME_FIELDS if item.get(f) is not None), _TIME_FIELDS[0])
    time = iso_time(item.get(time_field), time_field, ctx, extra)
    verb = view.required_text("verb")
    username = view.required_text("user.username")
    impersonated = view.text("impersonatedUser.username")
    source_ips = view.texts("sourceIPs")
    ip = domain = None
    if source_ips:
        index = source_ip_index if -len(source_ips) <= source_ip_index < len(source_ips) else 0
        ip, domain = classify_address(source_ips[index], f"sourceIPs[{index}]", extra)
        if len(source_ips) > 1:
            extra["source_ips"] = list(source_ips)
    annotations = view.obj("annotations")
    decision = annotations.get(_DECISION)
    authz_reason = annotations.get(_DECISION_REASON)
    code = view.get("responseStatus.code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    resource, service = _resource(view)
    for key, value in (
        ("stage", stage),
        ("request_uri", view.text("requestURI")),
        ("level", view.text("level")),
        ("user_uid", view.text("user.uid")),
        ("response_code", code),
        ("authz_decision", decision if isinstance(decision, str) else None),
        ("authz_reason", authz_reason if isinstance(authz_reason, str) else None),
    ):
        if value is not None:
            extra[key] = value
    if impersonated is not None:
        extra["impersonated_groups"] = list(view.texts("impersonatedUser.groups"))
    if audit_id is None:
        view.oddities.append("auditID: missing; event_id derived and not deduplicated")
    if audit_id is not None and stage not in (None, "ResponseComplete"):
        event_id = choose_event_id(f"{audit_id}:{stage}", SYSTEM, item)
    else:
        event_id = choose_event_id(audit_id, SYSTEM, item)
    data = {
        "event_id": event_id,
        "source_event_id": audit_id,
        "time": time,
        "original_time": item.get(time_field) if isinstance(item.get(time_field), str) else None,
        "ingested_time": ctx.now(),
        "actor": {
            "id": username,
            "name": username,
            "type": _actor_type(username),
            "roles": view.texts("user.groups"),
            "authenticated_as": impersonated,
        },
        "action": verb,
        "category": _category(verb, resource, code, decision),
        "resource": resource,
        "outcome": _outcome(code, decision),
        "reason": view.text("responseStatus.message")
        or view.text("responseStatus.reason")
        or (authz_reason if isinstance(authz_reason, str) else None),
        "source": {"ip": ip, "domain": domain, "user_agent": view.text("userAgent")},
        "origin": {"system": SYSTEM, "service": service},
        "request_id": audit_id,
        "raw": item,
        "extra": extra,
    }
    return build_event(data, view.oddities)


def _actor_type(username: str) -> ActorType:
    if username.startswith("system:serviceaccount:"):
        return ActorType.SERVICE
    if username == "system:anonymous":
        return ActorType.UNKNOWN
    if username.startswith("system:"):
        return ActorType.SYSTEM
    return ActorType.HUMAN


def _resource(view: RecordView) -> tuple[dict[str, Any] | None, str | None]:
    ref = view.obj("objectRef")
    if not ref:
        uri = view.text("requestURI")
        return ({"type": "nonResourceURL", "name": uri} if uri else None), None
    kind = view.text("objectRef.resource")
    sub = view.text("objectRef.subresource")
    group = view.get("objectRef.apiGroup")
    resource = {
        "type": f"{kind}/{sub}" if kind and sub else kind,
        "id": view.text("objectRef.uid"),
        "name": view.text("objectRef.name"),
        "namespace": view.text("objectRef.namespace"),
    }
    service = (group.strip() or "core") if isinstance(group, str) else "core"
    return resource, service


def _outcome(code: int | None, decision: Any) -> Outcome:
    if code is not None:
        return Outcome.SUCCESS if code < 400 else Outcome.FAILURE
    if decision == "allow":
        return Outcome.SUCCESS
    if decision == "forbid":
        return Outcome.FAILURE
    return Outcome.UNKNOWN


def _category(verb: str, resource: dict[str, Any] | None, code: int | None, decision: Any) -> Category:
    if code == 401:
        return Category.AUTHENTICATION
    if code == 403 or decision == "forbid":
        return Category.AUTHORIZATION
    kind = resource.get("type") if resource else None
    if kind in _AUTHN_RESOURCES:
        return Category.AUTHENTICATION
    if verb in _WRITES:
        return Category.ACCOUNT_CHANGE if kind in _ACCOUNT_RESOURCES else Category.ENTITY_MANAGEMENT
    return Category.API_ACTIVITY
