"""What each principal did in the window, outcome-aware: compact counts, never the events themselves.

The principal is ``actor.id``. The permission is ``permission_of(event)``.

- ``success``: the permission was used.
- ``failure``: a denied (or otherwise failed) attempt. It is not use: a
  review must not keep a grant alive because someone tried and failed.
- ``unknown``: counted as use, and also as ``unconfirmed``. A source that does
  not report outcomes would otherwise make every grant look unused, and a
  review that drops a grant still in use breaks production.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from detectors.events import AuditEvent, Outcome
from pipeline.access.actions import permission_of
from pipeline.access.window import Window

__all__ = ["ActionStats", "PrincipalUsage", "Usage", "collect_usage"]


@dataclass
class ActionStats:
    count: int = 0
    unconfirmed: int = 0
    resource_types: set[str] = field(default_factory=set)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, event: AuditEvent, unconfirmed: bool) -> None:
        self.count += 1
        self.unconfirmed += unconfirmed
        if event.resource is not None and event.resource.type:
            self.resource_types.add(event.resource.type)
        if self.first_seen is None or event.time < self.first_seen:
            self.first_seen = event.time
        if self.last_seen is None or event.time > self.last_seen:
            self.last_seen = event.time


@dataclass
class PrincipalUsage:
    principal: str
    actor_type: str = "unknown"
    events: int = 0
    used: dict[str, ActionStats] = field(default_factory=dict)
    denied: dict[str, ActionStats] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass
class Usage:
    """Per-principal usage, plus how many events were read and how many fell in the window."""

    principals: dict[str, PrincipalUsage] = field(default_factory=dict)
    events: int = 0
    in_window: int = 0

    def seen_permissions(self) -> set[str]:
        """Every permission anyone used or attempted in the window: the known family of a wildcard."""
        return {p for u in self.principals.values() for p in (*u.used, *u.denied)}

    def add(self, event: AuditEvent) -> None:
        entry = self.principals.get(event.actor.id)
        if entry is None:
            entry = self.principals[event.actor.id] = PrincipalUsage(event.actor.id)
        if event.actor.type.value != "unknown":
            entry.actor_type = event.actor.type.value
        entry.events += 1
        if entry.first_seen is None or event.time < entry.first_seen:
            entry.first_seen = event.time
        if entry.last_seen is None or event.time > entry.last_seen:
            entry.last_seen = event.time
        permission = permission_of(event)
        table = entry.denied if event.outcome is Outcome.FAILURE else entry.used
        table.setdefault(permission, ActionStats()).add(event, event.outcome is Outcome.UNKNOWN)


def collect_usage(events: Iterable[AuditEvent], window: Window) -> Usage:
    """Fold events into usage; events outside the window are counted in ``events`` only."""
    usage = Usage()
    for event in events:
        usage.events += 1
        if window.holds(event.time):
            usage.in_window += 1
            usage.add(event)
    return usage
