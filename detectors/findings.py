"""What a detector reports: a finding. ``alerts`` turns findings into alerts.

A finding carries everything an on-call engineer needs to judge it without
opening another tool (who, what, where, how often, when, and sample evidence),
but only bounded amounts of it: the ids of at most ``MAX_EVIDENCE_IDS`` events
and at most ``MAX_EVIDENCE_SAMPLES`` summarised samples.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from detectors.events import AuditEvent, Severity

__all__ = ["MAX_EVIDENCE_IDS", "MAX_EVIDENCE_SAMPLES", "Finding", "Severity", "evidence_sample"]

MAX_EVIDENCE_IDS = 100
MAX_EVIDENCE_SAMPLES = 10


class Finding(BaseModel):
    """A detector's verdict that something in the stream deserves attention."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str
    rule_title: str
    description: str | None = None
    severity: Severity
    tenant_id: str = "default"
    group: dict[str, str] = Field(
        default_factory=dict, description="group-by field -> value that identifies the entity"
    )
    count: int = Field(ge=1)
    threshold: str | None = Field(default=None, description="the condition that was met, e.g. '>= 5 in 60s'")
    window_start: datetime
    window_end: datetime
    first_seen: datetime
    last_seen: datetime
    event_ids: tuple[str, ...] = ()
    correlation_ids: tuple[str, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str | None = Field(
        default=None, description="the rule's own summary (its output template), when it has one"
    )
    detail: str | None = Field(
        default=None, description="what the correlation saw, e.g. 'first source.ip = 198.51.100.7'"
    )

    @property
    def entity(self) -> str:
        """A readable name for the group, e.g. ``actor.id=alice``."""
        return ", ".join(f"{k}={v}" for k, v in sorted(self.group.items())) or "(all)"


def evidence_sample(event: AuditEvent) -> dict[str, Any]:
    """The few fields of an event an on-call engineer reads first, as plain JSON values."""
    sample: dict[str, Any] = {
        "event_id": event.event_id,
        "time": event.time.isoformat(),
        "actor": event.actor.id,
        "action": event.action,
        "outcome": event.outcome.value,
        "origin": event.origin.system,
    }
    if event.source.ip is not None:
        sample["source_ip"] = str(event.source.ip)
    if event.source.user_agent:
        sample["user_agent"] = event.source.user_agent
    if event.resource is not None and (event.resource.name or event.resource.id):
        sample["resource"] = event.resource.name or event.resource.id
    if event.reason:
        sample["reason"] = event.reason
    if event.correlation_id:
        sample["correlation_id"] = event.correlation_id
    return sample
