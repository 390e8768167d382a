"""Building a canonical event from ``emit``'s arguments: the fields the caller need not give."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from auditwatch_sdk.errors import InvalidEvent
from auditwatch_sdk.redact import redact
from auditwatch_sdk.schema import Actor, AuditEvent, Resource
from auditwatch_sdk.trace import current_trace_context

__all__ = ["CANONICAL_FIELDS", "build_event"]

CANONICAL_FIELDS = frozenset(
    {
        "category",
        "reason",
        "severity",
        "source",
        "request_id",
        "correlation_id",
        "session_id",
        "trace_id",
        "span_id",
        "source_event_id",
        "tenant_id",
        "time",
        "raw",
    }
)
"""Keyword arguments of ``emit`` that set a canonical field; any other goes to ``extra``."""


def build_event(
    actor: str | Actor | Mapping[str, Any],
    action: str,
    resource: str | Resource | Mapping[str, Any] | None,
    outcome: str,
    *,
    origin: Mapping[str, Any],
    **fields: Any,
) -> AuditEvent:
    """A validated event with a new id, the current UTC time and trace context, or
    ``InvalidEvent`` naming each bad field. Secret-looking keys in ``extra`` are redacted."""
    data: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "time": datetime.now(UTC),
        "actor": {"id": actor} if isinstance(actor, str) else actor,
        "action": action,
        "outcome": outcome,
        "origin": origin,
    }
    if resource is not None:
        data["resource"] = {"id": resource} if isinstance(resource, str) else resource
    extra = {k: v for k, v in fields.items() if k not in CANONICAL_FIELDS}
    data.update((k, v) for k, v in fields.items() if k in CANONICAL_FIELDS and v is not None)
    if extra:
        data["extra"] = redact(extra)
    if "trace_id" not in data:
        context = current_trace_context()
        if context is not None:
            data["trace_id"], data["span_id"] = context.trace_id, context.span_id
    try:
        return AuditEvent.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise InvalidEvent(f"invalid audit event {action!r}: {problems}") from None
