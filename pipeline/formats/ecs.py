"""Elastic Common Schema (ECS) JSON events, as written by Beats, Elastic Agent and ecs-logging.

ECS allows a field either nested (``{"event": {"action": ...}}``) or as a
dotted top-level key (``{"event.action": ...}``, as ecs-logging libraries
write ``log.level``); both are read. ``origin.system`` keeps the dataset the
record names (``aws.cloudtrail``, ``okta.system``, ``system.auth``), so a rule
written for that source still selects it.

==============================  ==============================================
ECS                             canonical
==============================  ==============================================
event.id                        event_id, source_event_id (else a SHA-256 of
                                the record)
@timestamp                      time, original_time (verbatim)
event.action, else              action (else the first event.category, noted)
event.code
event.category, event.type      category (below); kept as extra.ecs_category,
                                extra.ecs_type
event.outcome                   outcome
event.reason, else              reason
error.message
user.name, else user.id, else   actor.id (without a user: service.name or
user.email                      host.name as a system actor, noted)
user.full_name, else user.name  actor.name
user.roles                      actor.roles
user.effective.name / .id       actor.authenticated_as (sudo, impersonation)
source.ip, else client.ip       source.ip (or source.domain for a host name)
source.domain, client.domain    source.domain
user_agent.original             source.user_agent
event.dataset, else             origin.system (else ``ecs``)
event.module, else
observer.product
event.provider                  origin.service
http.request.id                 request_id
trace.id, span.id               trace_id, span_id (not W3C ids: extra, noted)
log.level                       severity (critical/alert/emergency critical,
                                error high, warning medium, notice low)
user.target, group,             resource (user, group, the orchestrator's
orchestrator.resource,          resource with orchestrator.namespace, file)
file.path
host.name, cloud.account.id     extra.host, extra.cloud_account_id
==============================  ==============================================

Categories: ``authentication`` in event.category is ``authentication``; a
``denied`` event.type is ``authorization``; ``iam`` with a user, group, change,
creation, deletion or admin type is ``account_change``; any other change,
creation or deletion is ``entity_management``; ``api`` or ``web`` is
``api_activity``; anything else is ``other``.
"""

from __future__ import annotations

import re
from typing import Any

from detectors.events import ActorType, AuditEvent, Category, Outcome, Severity
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecordView,
    build_event,
    choose_event_id,
    classify_address,
    iso_time,
    verbatim,
)
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["EcsAdapter"]

_FALLBACK_SYSTEM = "ecs"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_OUTCOMES = {"success": Outcome.SUCCESS, "failure": Outcome.FAILURE}
_SEVERITIES = {
    "emergency": Severity.CRITICAL,
    "alert": Severity.CRITICAL,
    "critical": Severity.CRITICAL,
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "notice": Severity.LOW,
}
_IAM_TYPES = frozenset({"user", "group", "change", "creation", "deletion", "admin"})
_CHANGE_TYPES = frozenset({"change", "creation", "deletion"})


class EcsAdapter:
    """ECS JSON documents (nested or dotted keys)."""

    name = "ecs"

    def detect(self, record: DecodedRecord) -> bool:
        if not isinstance(record, dict) or "@timestamp" not in record:
            return False
        if isinstance(record.get("event"), dict) or "ecs" in record or "ecs.version" in record:
            return True
        return any(key.startswith("event.") for key in record)

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("an ECS event must be a JSON object")
        nested, clashes = _nested(record)
        view = RecordView(nested)
        view.oddities.extend(f"{key}: clashes with a nested field; not mapped" for key in clashes)
        extra: dict[str, Any] = {}
        time = iso_time(view.get("@timestamp"), "@timestamp", ctx, extra)
        categories = _keywords(view, "event.category")
        types = _keywords(view, "event.type")
        action = _action(view, categories)
        ip, domain = classify_address(view.get("source.ip") or view.get("client.ip"), "source.ip", extra)
        domain = view.text("source.domain") or view.text("client.domain") or domain
        for key, value in (
            ("ecs_category", list(categories) or None),
            ("ecs_type", list(types) or None),
            ("host", view.text("host.name")),
            ("cloud_account_id", view.text("cloud.account.id")),
        ):
            if value is not None:
                extra[key] = value
        trace_id = _w3c(view, "trace.id", _TRACE_ID, extra)
        span_id = _w3c(view, "span.id", _SPAN_ID, extra)
        system = (
            view.text("event.dataset")
            or view.text("event.module")
            or view.text("observer.product")
            or _FALLBACK_SYSTEM
        )
        actor = _actor(view)
        source_id = view.text("event.id")
        resource = _resource(view)
        data = {
            "event_id": choose_event_id(source_id, system, record),
            "source_event_id": source_id,
            "time": time,
            "original_time": verbatim(view.get("@timestamp")),
            "ingested_time": ctx.now(),
            "actor": actor,
            "action": action,
            "category": _category(categories, types),
            "resource": resource,
            "outcome": _OUTCOMES.get((view.text("event.outcome") or "").lower(), Outcome.UNKNOWN),
            "reason": view.text("event.reason") or view.text("error.message"),
            "source": {
                "ip": ip,
                "domain": domain,
                "user_agent": view.text("user_agent.original"),
            },
            "origin": {"system": system, "service": view.text("event.provider")},
            "request_id": view.text("http.request.id"),
            "trace_id": trace_id,
            "span_id": span_id,
            "severity": _SEVERITIES.get((view.text("log.level") or "").lower(), Severity.INFO),
            "raw": record,
            "extra": extra,
        }
        return [build_event(data, view.oddities)]


def _action(view: RecordView, categories: tuple[str, ...]) -> str:
    """event.action; else event.code; else the first event.category, noted (Beats leave
    event.action out of some events, such as sudo lines)."""
    action = view.text("event.action") or view.text("event.code")
    if action is not None:
        return action
    if categories:
        view.oddities.append("event.action: missing; action is the first event.category")
        return categories[0]
    raise RecordRejected(
        "event.action: required field is missing (nor event.code or event.category to stand in)",
        "event.action",
    )


def _nested(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The record with dotted top-level keys folded into nested objects (a copy if any),
    and the dotted keys that clash with a non-object value of the same path."""
    if not any("." in key for key in record):
        return record, []
    out: dict[str, Any] = {key: value for key, value in record.items() if "." not in key}
    clashes = []
    for key, value in record.items():
        if "." not in key:
            continue
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            if child is not None and not isinstance(child, dict):
                clashes.append(key)
                break
            child = dict(child) if child is not None else {}
            node[part] = child
            node = child
        else:
            node.setdefault(leaf, value)
    return out, clashes


def _keywords(view: RecordView, path: str) -> tuple[str, ...]:
    value = view.get(path)
    if isinstance(value, str):
        return (value.lower(),)
    return tuple(item.lower() for item in view.texts(path))


def _w3c(view: RecordView, path: str, pattern: re.Pattern[str], extra: dict[str, Any]) -> str | None:
    value = view.text(path)
    if value is None or pattern.match(value):
        return value
    key = path.replace(".", "_")
    extra[key] = value[:256]
    view.oddities.append(f"{path}: not a W3C trace-context id; kept in extra.{key}")
    return None


def _actor(view: RecordView) -> dict[str, Any]:
    user = view.text("user.name") or view.text("user.id") or view.text("user.email")
    if user is not None:
        return {
            "id": user,
            "name": view.text("user.full_name") or view.text("user.name"),
            "roles": view.texts("user.roles"),
            "authenticated_as": view.text("user.effective.name") or view.text("user.effective.id"),
        }
    reporter = view.text("service.name") or view.text("host.name")
    if reporter is None:
        raise RecordRejected(
            "user.name: required field is missing (nor user.id, user.email, service.name or "
            "host.name to name the actor)",
            "user.name",
        )
    view.oddities.append("user: missing; the reporting service or host is the actor")
    return {"id": reporter, "type": ActorType.SYSTEM}


def _category(categories: tuple[str, ...], types: tuple[str, ...]) -> Category:
    if "authentication" in categories:
        return Category.AUTHENTICATION
    if "denied" in types:
        return Category.AUTHORIZATION
    if "iam" in categories and _IAM_TYPES.intersection(types):
        return Category.ACCOUNT_CHANGE
    if _CHANGE_TYPES.intersection(types):
        return Category.ENTITY_MANAGEMENT
    if "api" in categories or "web" in categories:
        return Category.API_ACTIVITY
    return Category.OTHER


def _resource(view: RecordView) -> dict[str, Any] | None:
    for prefix, kind in (("user.target", "user"), ("group", "group")):
        name = view.text(f"{prefix}.name")
        uid = view.text(f"{prefix}.id")
        if name or uid:
            return {"type": kind, "id": uid, "name": name}
    orchestrated = view.text("orchestrator.resource.name")
    if orchestrated is not None:
        return {
            "type": view.text("orchestrator.resource.type"),
            "name": orchestrated,
            "namespace": view.text("orchestrator.namespace"),
        }
    path = view.text("file.path")
    return {"type": "file", "name": path} if path else None
