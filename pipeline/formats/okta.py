"""Okta System Log events (``LogEvent`` objects from ``/api/v1/logs`` or event hooks).

==========================================  =====================================
Okta                                        canonical
==========================================  =====================================
uuid                                        event_id, source_event_id
published                                   time, original_time (verbatim); a
                                            date that does not exist gives the
                                            ingest time, noted in extra
eventType                                   action (``user.session.start``...)
actor.id                                    actor.id
actor.alternateId                           actor.name (the login)
actor.type                                  actor.type (below)
actor.displayName                           extra.actor_display_name
outcome.result                              outcome: SUCCESS/ALLOW success,
                                            FAILURE/DENY failure, else unknown
outcome.reason                              reason
client.ipAddress                            source.ip (or source.domain)
client.userAgent.rawUserAgent               source.user_agent
transaction.id                              correlation_id
debugContext.debugData.requestId            request_id
authenticationContext.externalSessionId     session_id
severity                                    severity: DEBUG/INFO info, WARN
                                            medium, ERROR high
target[0]                                   resource (type, id, alternateId or
                                            displayName as name)
displayMessage, legacyEventType             extra.display_message,
                                            extra.legacy_event_type
debugContext.debugData.requestUri           extra.request_uri
client.geographicalContext.country          extra.country
==========================================  =====================================

Actor types: ``User`` is human, ``SystemPrincipal`` is system, client
applications (``PublicClientApp``, ``AppInstance``, ``Client``) are services.

Categories: a ``DENY`` result is ``authorization`` (a policy said no);
``user.session.*`` and ``user.authentication.*`` are ``authentication`` (a
failed sign-in is ``user.session.start`` with outcome failure); user, group,
membership, factor and credential changes are ``account_change``; other
create, update, delete and lifecycle events are ``entity_management``;
everything else is ``api_activity``.
"""

from __future__ import annotations

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

__all__ = ["SYSTEM", "OktaAdapter"]

SYSTEM = "okta"

_ACTOR_TYPES = {
    "User": ActorType.HUMAN,
    "SystemPrincipal": ActorType.SYSTEM,
    "PublicClientApp": ActorType.SERVICE,
    "AppInstance": ActorType.SERVICE,
    "Client": ActorType.SERVICE,
}
_OUTCOMES = {
    "SUCCESS": Outcome.SUCCESS,
    "ALLOW": Outcome.SUCCESS,
    "FAILURE": Outcome.FAILURE,
    "DENY": Outcome.FAILURE,
}
_SEVERITIES = {
    "DEBUG": Severity.INFO,
    "INFO": Severity.INFO,
    "WARN": Severity.MEDIUM,
    "ERROR": Severity.HIGH,
}
_AUTHENTICATION = ("user.session.", "user.authentication.")
_ACCOUNT_CHANGE = (
    "user.lifecycle.",
    "user.account.",
    "user.mfa.factor.",
    "user.credential.",
    "group.user_membership.",
    "group.lifecycle.",
    "application.user_membership.",
    "system.email.",
)
_CHANGE_WORDS = (".create", ".update", ".delete", ".add", ".remove", ".lifecycle.", ".activate")


class OktaAdapter:
    """Okta System Log ``LogEvent`` objects."""

    name = "okta"

    def detect(self, record: DecodedRecord) -> bool:
        return (
            isinstance(record, dict)
            and "eventType" in record
            and "published" in record
            and ("uuid" in record or "legacyEventType" in record)
        )

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("an Okta System Log event must be a JSON object")
        view = RecordView(record)
        extra: dict[str, Any] = {}
        time = iso_time(record.get("published"), "published", ctx, extra)
        action = view.required_text("eventType")
        actor_id = view.required_text("actor.id")
        result = (view.text("outcome.result") or "").upper()
        ip, domain = classify_address(view.get("client.ipAddress"), "client.ipAddress", extra)
        for key, value in (
            ("actor_display_name", view.text("actor.displayName")),
            ("display_message", view.text("displayMessage")),
            ("legacy_event_type", view.text("legacyEventType")),
            ("request_uri", view.text("debugContext.debugData.requestUri")),
            ("country", view.text("client.geographicalContext.country")),
            ("outcome_result", result or None),
        ):
            if value is not None:
                extra[key] = value
        source_id = view.text("uuid")
        if source_id is None:
            view.oddities.append("uuid: missing; event_id derived from the record")
        severity = _SEVERITIES.get((view.text("severity") or "").upper(), Severity.INFO)
        resource = _resource(view)
        data = {
            "event_id": choose_event_id(source_id, SYSTEM, record),
            "source_event_id": source_id,
            "time": time,
            "original_time": verbatim(record.get("published")),
            "ingested_time": ctx.now(),
            "actor": {
                "id": actor_id,
                "name": view.text("actor.alternateId"),
                "type": _ACTOR_TYPES.get(view.text("actor.type") or "", ActorType.UNKNOWN),
            },
            "action": action,
            "category": _category(action, result),
            "resource": resource,
            "outcome": _OUTCOMES.get(result, Outcome.UNKNOWN),
            "reason": view.text("outcome.reason"),
            "source": {
                "ip": ip,
                "domain": domain,
                "user_agent": view.text("client.userAgent.rawUserAgent"),
            },
            "origin": {"system": SYSTEM},
            "request_id": view.text("debugContext.debugData.requestId"),
            "correlation_id": view.text("transaction.id"),
            "session_id": view.text("authenticationContext.externalSessionId"),
            "severity": severity,
            "raw": record,
            "extra": extra,
        }
        return [build_event(data, view.oddities)]


def _category(event_type: str, result: str) -> Category:
    if result == "DENY":
        return Category.AUTHORIZATION
    if event_type.startswith(_AUTHENTICATION):
        return Category.AUTHENTICATION
    if event_type.startswith(_ACCOUNT_CHANGE):
        return Category.ACCOUNT_CHANGE
    if any(word in event_type for word in _CHANGE_WORDS):
        return Category.ENTITY_MANAGEMENT
    return Category.API_ACTIVITY


def _resource(view: RecordView) -> dict[str, Any] | None:
    targets = view.seq("target")
    first = targets[0] if targets else None
    if not isinstance(first, dict):
        return None
    target = RecordView(first)
    return {
        "type": target.text("type"),
        "id": target.text("id"),
        "name": target.text("alternateId") or target.text("displayName"),
    }
