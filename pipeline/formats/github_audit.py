"""GitHub audit log entries: the REST API's entries and the audit log stream's.

An entry has no outcome field: it records an action that took place. So the
outcome is ``success`` unless the action's own name says otherwise
(``protected_branch.rejected_ref_update``, ``user.failed_login``). Times are
epoch milliseconds. Streamed entries carry no id, so theirs is derived from
the record.

====================================  =========================================
GitHub                                canonical
====================================  =========================================
_document_id                          event_id, source_event_id (else a
                                      SHA-256 of the record)
@timestamp, else created_at           time (epoch ms, or ISO 8601),
                                      original_time (the number, as text)
action                                action (``org.invite_member``...)
action's first part                   origin.service (``org``, ``repo``...);
                                      origin.system: github.audit
actor                                 actor.id and actor.name; without one,
                                      ``github`` (GitHub itself), noted
actor_id                              extra.actor_id
actor_ip                              source.ip (or source.domain)
user_agent                            source.user_agent
request_id                            request_id
team / repo / user / org / business   resource, in that order of preference
                                      (team only for ``team.*`` actions);
                                      namespace: org, else business
user, org, operation_type,            extra.user, extra.org,
actor_location.country_code           extra.operation_type, extra.country_code
====================================  =========================================

Actor types: a login ending in ``[bot]`` is a service, anyone else human.

Categories: sign-ins (``user.login``, ``user.failed_login``...) are
``authentication``; rejected, denied and policy-override actions are
``authorization``; ``user.*``, ``team.*``, ``two_factor_authentication.*`` and
member, admin, owner and collaborator changes are ``account_change``; git and
API access (``git.clone``, ``api.request``) is ``api_activity``; every other
action is ``entity_management``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detectors.events import ActorType, AuditEvent, Category, Outcome
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecordView,
    build_event,
    choose_event_id,
    classify_address,
    epoch_time,
    iso_time,
    verbatim,
)
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["SYSTEM", "GitHubAuditAdapter"]

SYSTEM = "github.audit"

_MARKERS = ("_document_id", "org", "business", "actor_location", "org_id", "business_id")
_SIGN_IN = frozenset({"user.login", "user.failed_login", "user.logout"})
_FAILURE_WORDS = ("failed", "rejected", "denied", "deny")
_AUTHZ_WORDS = ("rejected", "denied", "deny", "policy_override")
_ACCOUNT_PREFIXES = ("user.", "team.", "two_factor_authentication.")
_ACCOUNT_WORDS = ("member", "admin", "owner", "collaborator", "maintainer")
_ACCESS_PREFIXES = ("git.", "api.")
_SECONDS_NOT_MS = 100_000_000_000
"""Below this a millisecond time would be before March 1973: it was written in seconds."""


class GitHubAuditAdapter:
    """GitHub audit log entries (REST API and stream)."""

    name = "github_audit"

    def detect(self, record: DecodedRecord) -> bool:
        if not isinstance(record, dict) or not isinstance(record.get("action"), str):
            return False
        if "created_at" not in record and "@timestamp" not in record:
            return False
        return "schema_version" not in record and any(key in record for key in _MARKERS)

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("a GitHub audit log entry must be a JSON object")
        view = RecordView(record)
        extra: dict[str, Any] = {}
        time_field = "@timestamp" if record.get("@timestamp") is not None else "created_at"
        time = _time(record.get(time_field), time_field, ctx, extra)
        action = view.required_text("action")
        actor = view.text("actor")
        if actor is None:
            view.oddities.append("actor: missing; the event is attributed to GitHub itself")
        ip, domain = classify_address(view.get("actor_ip"), "actor_ip", extra)
        for key, value in (
            ("actor_id", view.text("actor_id")),
            ("user", view.text("user")),
            ("org", view.text("org")),
            ("operation_type", view.text("operation_type")),
            ("country_code", view.text("actor_location.country_code")),
        ):
            if value is not None:
                extra[key] = value
        source_id = view.text("_document_id")
        resource = _resource(view, action)
        data = {
            "event_id": choose_event_id(source_id, SYSTEM, record),
            "source_event_id": source_id,
            "time": time,
            "original_time": verbatim(record.get(time_field)),
            "ingested_time": ctx.now(),
            "actor": {
                "id": actor or "github",
                "name": actor,
                "type": _actor_type(actor),
            },
            "action": action,
            "category": _category(action),
            "resource": resource,
            "outcome": _outcome(action),
            "source": {"ip": ip, "domain": domain, "user_agent": view.text("user_agent")},
            "origin": {"system": SYSTEM, "service": action.split(".", 1)[0]},
            "request_id": view.text("request_id"),
            "raw": record,
            "extra": extra,
        }
        return [build_event(data, view.oddities)]


def _time(value: Any, field: str, ctx: FormatContext, extra: dict[str, Any]) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 0 < value < _SECONDS_NOT_MS:
            extra["time_unit_note"] = f"{field} {value} is too small for ms; read as seconds"
            return epoch_time(value, field, 1.0)
        return epoch_time(value, field, 0.001)
    if isinstance(value, str) and value.strip().isdigit():
        return _time(int(value.strip()), field, ctx, extra)
    return iso_time(value, field, ctx, extra)


def _actor_type(actor: str | None) -> ActorType:
    if actor is None:
        return ActorType.SYSTEM
    return ActorType.SERVICE if actor.endswith("[bot]") else ActorType.HUMAN


def _outcome(action: str) -> Outcome:
    return Outcome.FAILURE if any(word in action for word in _FAILURE_WORDS) else Outcome.SUCCESS


def _category(action: str) -> Category:
    if action in _SIGN_IN:
        return Category.AUTHENTICATION
    if any(word in action for word in _AUTHZ_WORDS):
        return Category.AUTHORIZATION
    if action.startswith(_ACCOUNT_PREFIXES):
        return Category.ACCOUNT_CHANGE
    if any(word in action.partition(".")[2] for word in _ACCOUNT_WORDS):
        return Category.ACCOUNT_CHANGE
    if action.startswith(_ACCESS_PREFIXES):
        return Category.API_ACTIVITY
    return Category.ENTITY_MANAGEMENT


def _resource(view: RecordView, action: str) -> dict[str, Any] | None:
    namespace = view.text("org") or view.text("business")
    team = view.text("team")
    if team and action.startswith("team."):
        return {"type": "team", "name": team, "namespace": namespace}
    for field, kind in (
        ("repo", "repository"),
        ("user", "user"),
        ("org", "organization"),
        ("business", "enterprise"),
    ):
        name = view.text(field)
        if name is not None:
            return {"type": kind, "name": name, "namespace": namespace}
    return None
