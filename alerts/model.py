"""The alert: what a finding becomes once it is ready to leave the process.

An :class:`Alert` is self-contained (receivers never need the finding) and
safe to send: :func:`build_alert` passes evidence and free text through the
redactor, so it is the one way alerts should be made.

Its ``id`` is a fingerprint of the rule, the tenant, the group and the window
start, and nothing else: the same finding always gives the same id, however
often it is rebuilt or redelivered, so receivers and the router can
deduplicate on it. It is sent as the ``webhook-id`` header for that reason.

The JSON form (``to_json_bytes``) is the payload contract with receivers::

    {"id": "3f2a...", "rule_id": "failed-logins", "severity": "high",
     "title": "Failed logins burst: actor.id=alice", "summary": "5 failed ...",
     "description": null, "entity": "actor.id=alice", "group": {"actor.id": "alice"},
     "count": 5, "threshold": ">= 5 in 60s",
     "first_seen": "2024-05-01T10:00:01Z", "last_seen": "2024-05-01T10:00:40Z",
     "window_start": "2024-05-01T10:00:00Z", "window_end": "2024-05-01T10:01:00Z",
     "tenant_id": "default", "event_ids": ["e1", ...], "correlation_ids": [],
     "evidence": [{"event_id": "e1", "actor": "alice", ...}],
     "labels": {"alertname": "failed-logins", "severity": "high", "tenant": "default",
                "actor.id": "alice"},
     "tags": ["attack.credential_access"],
     "trace_id": "4bf92f35...", "span_id": "00f067aa..."}

``trace_id``/``span_id`` are the W3C trace context of the event that triggered
the finding, and are left out when it had none (so an untraced alert's bytes,
which the archive hashes, are what they were before the fields existed);
webhook deliveries send them on as a ``traceparent`` header (:func:`traceparent`).

``severity`` is written as its lower-case name and read back from a name or a
number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from alerts.describe import as_utc, summary_for, title_for
from alerts.errors import AlertDecodeError
from alerts.redact import Redactor
from auditwatch_sdk.trace import TraceContext, current_trace_context
from detectors.findings import Finding, Severity

__all__ = ["Alert", "SeverityName", "alert_id", "build_alert", "traceparent"]

ID_LENGTH = 32


def _parse_severity(value: object) -> object:
    # Anything but a name or a number is left for the enum validator to reject
    # with a proper validation error.
    if isinstance(value, str | int):
        return Severity.parse(value)
    return value


SeverityName = Annotated[
    Severity,
    BeforeValidator(_parse_severity),
    PlainSerializer(lambda severity: severity.label, return_type=str),
]
"""A severity that YAML and JSON spell as ``"high"`` (numbers are accepted too)."""

_DEFAULT_REDACTOR = Redactor()


class Alert(BaseModel):
    """A finding made ready for receivers; see the module docstring for the JSON form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=rf"^[0-9a-f]{{{ID_LENGTH}}}$")
    rule_id: str
    severity: SeverityName
    title: str
    summary: str
    description: str | None = None
    entity: str
    group: dict[str, str] = Field(default_factory=dict)
    count: int = Field(ge=1)
    threshold: str | None = None
    first_seen: datetime
    last_seen: datetime
    window_start: datetime
    window_end: datetime
    tenant_id: str = "default"
    event_ids: tuple[str, ...] = ()
    correlation_ids: tuple[str, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    span_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")

    @model_serializer(mode="wrap")
    def _without_absent_trace(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("trace_id", "span_id"):
            if data.get(key, "") is None:
                del data[key]
        return data

    def to_json_bytes(self) -> bytes:
        """The alert as compact UTF-8 JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Self:
        """Read an alert written by :meth:`to_json_bytes`."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise AlertDecodeError(f"not an alert document: {exc}") from exc


def alert_id(finding: Finding) -> str:
    """The deterministic fingerprint of a finding (see the module docstring).

    The parts are hashed as one JSON array, so that no two different findings
    can run together into the same text (``("a,b", "c")`` versus ``("a", "b,c")``).
    The window start is normalised to UTC, so the same instant written in two
    zones gives the same id.
    """
    parts = [
        finding.rule_id,
        finding.tenant_id,
        sorted(finding.group.items()),
        as_utc(finding.window_start).isoformat(),
    ]
    canonical = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:ID_LENGTH]


def build_alert(
    finding: Finding, *, redactor: Redactor | None = None, trace: TraceContext | None = None
) -> Alert:
    """Turn a finding into an alert, redacting everything a receiver will see.

    ``redactor`` defaults to the built-in sensitive-key patterns; pass the one
    made from the alerts config (``AlertsConfig.redactor()``) to add site keys.

    Labels, which the router matches on, are the finding's group fields, its
    tags (comma-joined under ``tags``) and its own labels, then ``alertname``,
    ``severity`` and ``tenant``, which always describe the alert truthfully and
    so cannot be overridden. ``trace`` is the triggering event's trace context.
    """
    redactor = redactor or _DEFAULT_REDACTOR
    group: dict[str, str] = redactor.redact(finding.group)
    labels: dict[str, str] = dict(group)
    if finding.tags:
        labels["tags"] = ",".join(finding.tags)
    labels.update(redactor.redact(finding.labels))
    labels.update(
        alertname=finding.rule_id,
        severity=finding.severity.label,
        tenant=finding.tenant_id,
    )
    description = redactor.redact_text(finding.description) if finding.description else None
    return Alert(
        id=alert_id(finding),
        rule_id=finding.rule_id,
        severity=finding.severity,
        title=redactor.redact_text(title_for(finding)),
        summary=redactor.redact_text(summary_for(finding)),
        description=description,
        entity=redactor.redact_text(finding.entity),
        group=group,
        count=finding.count,
        threshold=finding.threshold,
        first_seen=as_utc(finding.first_seen),
        last_seen=as_utc(finding.last_seen),
        window_start=as_utc(finding.window_start),
        window_end=as_utc(finding.window_end),
        tenant_id=finding.tenant_id,
        event_ids=finding.event_ids,
        correlation_ids=finding.correlation_ids,
        evidence=tuple(redactor.redact(sample) for sample in finding.evidence),
        labels=labels,
        tags=finding.tags,
        trace_id=trace.trace_id if trace is not None else None,
        span_id=trace.span_id if trace is not None else None,
    )


def traceparent(*alerts: Alert) -> str | None:
    """The W3C ``traceparent`` header for delivering ``alerts``, or None.

    Inside a recording OpenTelemetry span (the pipeline's delivery span) the
    header names that span, which is itself a child of the event's trace;
    otherwise it names the first alert's own trace context, so a receiver
    joins the trace of the request that caused the event either way.
    """
    context = current_trace_context()
    if context is None:
        context = next(
            (TraceContext(a.trace_id, a.span_id) for a in alerts if a.trace_id and a.span_id), None
        )
    return context.traceparent if context is not None else None
