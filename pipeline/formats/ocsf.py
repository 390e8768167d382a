"""OCSF (Open Cybersecurity Schema Framework) events, in and out.

``OcsfAdapter`` reads OCSF 1.x JSON events (from AWS Security Lake, or from
another auditwatch via ``to_ocsf``). ``to_ocsf`` writes a canonical event as an
OCSF event. The two are inverse on the mapped fields below, so an event that
leaves as OCSF comes back equal; canonical fields OCSF has no place for travel
in ``unmapped.auditwatch``. An empty string is read as absent.

==============================  ==============================================
OCSF                            canonical
==============================  ==============================================
metadata.uid                    event_id (else a SHA-256 of the record)
time_dt, else time (epoch ms)   time
metadata.original_time          original_time (OCSF's own verbatim source time)
metadata.tenant_uid             tenant_id
metadata.product.name           origin.system (else vendor_name, else ``ocsf``)
api.service.name, else          origin.service
metadata.log_provider
metadata.event_code, else       action
api.operation, else
activity_name, else type_name
class_uid                       category (table below)
status_id, status               outcome (1 success, 2 failure, else unknown)
status_detail                   reason
severity_id                     severity (1 info, 2 low, 3 medium, 4 high,
                                5 and 6 critical)
actor.user.uid, else .name,     actor.id
else user.uid / user.name
actor.user.name                 actor.name
actor.user.type_id / type       actor.type (1 User and 2 Admin human, 3
                                System system, type ``Service`` service)
actor.user.groups[].name        actor.roles
actor.session.uid               session_id
src_endpoint.ip                 source.ip
src_endpoint.hostname / domain  source.domain
http_request.user_agent         source.user_agent
api.request.uid                 request_id
metadata.correlation_uid        correlation_id
resources[0], else entity       resource (type, uid as id, name, namespace)
unmapped.auditwatch             source_event_id, actor.authenticated_as,
                                trace_id, span_id, extra
class_uid, class_name,          extra.ocsf_class_uid, extra.ocsf_class_name,
activity_name,                  extra.ocsf_activity_name, extra.ocsf_version
metadata.version
==============================  ==============================================

=================  ===========================================================
category           OCSF class
=================  ===========================================================
authentication     3002 Authentication
account_change     3001 Account Change (3005 User Access Management and 3006
                   Group Management are read as account_change too)
authorization      3003 Authorize Session
entity_management  3004 Entity Management
api_activity       6003 API Activity
other              0 Base Event (any other class is read as other)
=================  ===========================================================
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from detectors.events import ActorType, AuditEvent, Category, Outcome, Severity
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecordView,
    build_event,
    choose_event_id,
    classify_address,
    epoch_time,
    iso_time,
)
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["OCSF_VERSION", "OcsfAdapter", "to_ocsf"]

OCSF_VERSION = "1.1.0"
_FALLBACK_SYSTEM = "ocsf"

_CLASSES: dict[Category, tuple[int, str, int, str]] = {
    Category.AUTHENTICATION: (3002, "Authentication", 3, "Identity & Access Management"),
    Category.ACCOUNT_CHANGE: (3001, "Account Change", 3, "Identity & Access Management"),
    Category.AUTHORIZATION: (3003, "Authorize Session", 3, "Identity & Access Management"),
    Category.ENTITY_MANAGEMENT: (3004, "Entity Management", 3, "Identity & Access Management"),
    Category.API_ACTIVITY: (6003, "API Activity", 6, "Application Activity"),
    Category.OTHER: (0, "Base Event", 0, "Uncategorized"),
}
_CATEGORY_OF_CLASS = {uid: category for category, (uid, *_) in _CLASSES.items()} | {
    3005: Category.ACCOUNT_CHANGE,
    3006: Category.ACCOUNT_CHANGE,
}
_STATUS = {
    Outcome.SUCCESS: (1, "Success"),
    Outcome.FAILURE: (2, "Failure"),
    Outcome.UNKNOWN: (0, "Unknown"),
}
_OUTCOME_OF_STATUS = {1: Outcome.SUCCESS, 2: Outcome.FAILURE}
_SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
_SEVERITY_OF_ID = {
    2: Severity.LOW,
    3: Severity.MEDIUM,
    4: Severity.HIGH,
    5: Severity.CRITICAL,
    6: Severity.CRITICAL,
}
_USER_TYPE = {
    ActorType.HUMAN: (1, "User"),
    ActorType.SYSTEM: (3, "System"),
    ActorType.SERVICE: (99, "Service"),
    ActorType.UNKNOWN: (0, "Unknown"),
}
_ACTOR_OF_TYPE_ID = {1: ActorType.HUMAN, 2: ActorType.HUMAN, 3: ActorType.SYSTEM}
_ACTIVITY_OTHER = 99
_ACTION_FIELDS = ("metadata.event_code", "api.operation", "activity_name", "type_name")
_ACTOR_FIELDS = ("actor.user.uid", "actor.user.name", "user.uid", "user.name", "actor.app_name")


class OcsfAdapter:
    """OCSF 1.x events; keeps the system the record names as ``origin.system``."""

    name = "ocsf"

    def detect(self, record: DecodedRecord) -> bool:
        return (
            isinstance(record, dict)
            and "class_uid" in record
            and ("metadata" in record or "category_uid" in record)
        )

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("an OCSF event must be a JSON object")
        view = RecordView(record)
        extra: dict[str, Any] = {}
        time = _time(view, ctx, extra)
        action = _first(view, _ACTION_FIELDS)
        if action is None:
            raise RecordRejected(
                "no metadata.event_code, api.operation, activity_name or type_name to name the action",
                "api.operation",
            )
        actor_id = _first(view, _ACTOR_FIELDS)
        if actor_id is None:
            raise RecordRejected(
                "actor.user: no uid or name (nor user.uid, user.name, actor.app_name) to name the actor",
                "actor.user",
            )
        own = view.obj("unmapped.auditwatch")
        restored = own.get("extra")
        if isinstance(restored, dict):
            extra.update(restored)
        class_uid = view.get("class_uid")
        for key, value in (
            ("ocsf_class_uid", class_uid if isinstance(class_uid, int) else None),
            ("ocsf_class_name", view.text("class_name")),
            ("ocsf_activity_name", view.text("activity_name")),
            ("ocsf_version", view.text("metadata.version")),
        ):
            if value is not None:
                extra.setdefault(key, value)  # a round trip keeps the values first read
        ip, domain = classify_address(view.get("src_endpoint.ip"), "src_endpoint.ip", extra)
        domain = view.text("src_endpoint.hostname") or view.text("src_endpoint.domain") or domain
        source_id = view.text("metadata.uid")
        resource = _resource(view)
        data = {
            "event_id": choose_event_id(source_id, _system(view), record),
            "source_event_id": _own_text(own, "source_event_id"),
            "time": time,
            "original_time": view.text("metadata.original_time"),
            "ingested_time": ctx.now(),
            "tenant_id": view.text("metadata.tenant_uid") or "default",
            "actor": {
                "id": actor_id,
                "name": view.text("actor.user.name") or view.text("user.name"),
                "type": _actor_type(view),
                "roles": _groups(view),
                "authenticated_as": _own_text(own, "authenticated_as"),
            },
            "action": action,
            "category": _CATEGORY_OF_CLASS.get(class_uid, Category.OTHER)
            if isinstance(class_uid, int)
            else Category.OTHER,
            "resource": resource,
            "outcome": _outcome(view),
            "reason": view.text("status_detail"),
            "source": {
                "ip": ip,
                "domain": domain,
                "user_agent": view.text("http_request.user_agent"),
            },
            "origin": {
                "system": _system(view),
                "service": view.text("api.service.name") or view.text("metadata.log_provider"),
            },
            "request_id": view.text("api.request.uid"),
            "correlation_id": view.text("metadata.correlation_uid"),
            "trace_id": _own_text(own, "trace_id"),
            "span_id": _own_text(own, "span_id"),
            "session_id": view.text("actor.session.uid"),
            "severity": _severity(view),
            "raw": record,
            "extra": extra,
        }
        return [build_event(data, view.oddities)]


def _first(view: RecordView, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value = view.text(path)
        if value is not None:
            return value
    return None


def _own_text(own: dict[str, Any], key: str) -> str | None:
    value = own.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _time(view: RecordView, ctx: FormatContext, extra: dict[str, Any]) -> datetime:
    if view.get("time_dt") is not None:
        return iso_time(view.get("time_dt"), "time_dt", ctx, extra)
    value = view.get("time")
    if isinstance(value, str):
        return iso_time(value, "time", ctx, extra)
    if value is None:
        raise RecordRejected("time: required field is missing or null", "time")
    return epoch_time(value, "time", 0.001)


def _system(view: RecordView) -> str:
    return view.text("metadata.product.name") or view.text("metadata.product.vendor_name") or _FALLBACK_SYSTEM


def _actor_type(view: RecordView) -> ActorType:
    kind = view.text("actor.user.type")
    if kind is not None and kind.lower() == "service":
        return ActorType.SERVICE
    type_id = view.get("actor.user.type_id")
    if isinstance(type_id, int):
        return _ACTOR_OF_TYPE_ID.get(type_id, ActorType.UNKNOWN)
    return ActorType.UNKNOWN


def _groups(view: RecordView) -> tuple[str, ...]:
    names = []
    for group in view.seq("actor.user.groups"):
        name = group.get("name") if isinstance(group, dict) else None
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return tuple(names)


def _outcome(view: RecordView) -> Outcome:
    status_id = view.get("status_id")
    if isinstance(status_id, int) and status_id in _OUTCOME_OF_STATUS:
        return _OUTCOME_OF_STATUS[status_id]
    status = (view.text("status") or "").lower()
    return {"success": Outcome.SUCCESS, "failure": Outcome.FAILURE}.get(status, Outcome.UNKNOWN)


def _severity(view: RecordView) -> Severity:
    severity_id = view.get("severity_id")
    if isinstance(severity_id, int):
        return _SEVERITY_OF_ID.get(severity_id, Severity.INFO)
    return Severity.INFO


def _resource(view: RecordView) -> dict[str, Any] | None:
    resources = view.seq("resources")
    first = resources[0] if resources else view.get("entity")
    if not isinstance(first, dict):
        return None
    item = RecordView(first)
    return {
        "type": item.text("type"),
        "id": item.text("uid"),
        "name": item.text("name"),
        "namespace": item.text("namespace"),
    }


def to_ocsf(event: AuditEvent) -> dict[str, Any]:
    """The event as an OCSF 1.1 event of the class its category maps to.

    ``activity_id`` is 99 (Other) with the action as ``activity_name``: the
    canonical action is the source's own verb, which OCSF's per-class activity
    enumerations do not capture without loss.
    """
    class_uid, class_name, category_uid, category_name = _CLASSES[event.category]
    status_id, status = _STATUS[event.outcome]
    severity_id, severity = _SEVERITY_ID[event.severity]
    type_id, type_name = _USER_TYPE[event.actor.type]
    vendor = event.origin.system.split(".", 1)[0]
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "uid": event.event_id,
        "product": {"name": event.origin.system, "vendor_name": vendor},
        "event_code": event.action,
        "tenant_uid": event.tenant_id,
    }
    user: dict[str, Any] = {"uid": event.actor.id, "type_id": type_id, "type": type_name}
    if event.actor.name is not None:
        user["name"] = event.actor.name
    if event.actor.roles:
        user["groups"] = [{"name": role} for role in event.actor.roles]
    actor: dict[str, Any] = {"user": user}
    if event.session_id is not None:
        actor["session"] = {"uid": event.session_id}
    out: dict[str, Any] = {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": _ACTIVITY_OTHER,
        "activity_name": event.action,
        "type_uid": class_uid * 100 + _ACTIVITY_OTHER,
        "time": int(event.time.timestamp() * 1000),
        "time_dt": event.time.isoformat(),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "metadata": metadata,
        "actor": actor,
    }
    _optional(metadata, "original_time", event.original_time)
    _optional(metadata, "log_provider", event.origin.service)
    _optional(metadata, "correlation_uid", event.correlation_id)
    _optional(out, "status_detail", event.reason)
    api: dict[str, Any] = {"operation": event.action}
    if event.origin.service is not None:
        api["service"] = {"name": event.origin.service}
    if event.request_id is not None:
        api["request"] = {"uid": event.request_id}
    out["api"] = api
    endpoint: dict[str, Any] = {}
    if event.source.ip is not None:
        endpoint["ip"] = str(event.source.ip)
    _optional(endpoint, "hostname", event.source.domain)
    if endpoint:
        out["src_endpoint"] = endpoint
    if event.source.user_agent is not None:
        out["http_request"] = {"user_agent": event.source.user_agent}
    if event.resource is not None:
        resource: dict[str, Any] = {}
        for key, value in (
            ("type", event.resource.type),
            ("uid", event.resource.id),
            ("name", event.resource.name),
            ("namespace", event.resource.namespace),
        ):
            _optional(resource, key, value)
        out["resources"] = [resource]
    own: dict[str, Any] = {}
    for key, value in (
        ("source_event_id", event.source_event_id),
        ("authenticated_as", event.actor.authenticated_as),
        ("trace_id", event.trace_id),
        ("span_id", event.span_id),
    ):
        _optional(own, key, value)
    if event.extra:
        own["extra"] = event.extra
    if own:
        out["unmapped"] = {"auditwatch": own}
    if event.raw is not None:
        out["raw_data"] = event.raw if isinstance(event.raw, str) else json.dumps(event.raw)
    return out


def _optional(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value
