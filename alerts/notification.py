"""What the router sends: a notification about one aggregation group, for one integration.

An auditwatch :class:`~alerts.model.Alert` enters the router with its labels
(:func:`routing_labels`). Inside the router it is an :class:`AlertState`: the
alert, when it started and when it ends. An alert has no explicit end in
auditwatch (a finding is a moment, not a condition), so it is *firing* for
``resolve_timeout`` after the router last received it, then *resolved*, as
Alertmanager treats alerts sent without ``endsAt``.

A :class:`Notification` is what one integration is asked to deliver: the
group's key and labels, and its alerts at the time of the flush, each firing or
resolved. Its ``id`` is deterministic (the group, the integration and the
sequence number of the notification), so a notification re-sent after a crash
carries the same ``webhook-id`` and a receiver can drop the copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from alerts.model import Alert

__all__ = [
    "AlertState",
    "Notification",
    "Status",
    "alert_annotations",
    "common_items",
    "notification_id",
    "routing_labels",
]

Status = Literal["firing", "resolved"]


def routing_labels(alert: Alert) -> dict[str, str]:
    """The labels routes, inhibit rules and silences match on.

    The alert's own labels (its group fields, ``tags``, what the rule adds, and
    ``alertname``, ``severity`` and ``tenant``), plus ``rule_id``, ``entity``
    and, when every evidence sample names the same origin, ``service`` (the
    reporting system, such as ``okta``), unless the rule set those itself.
    """
    labels = dict(alert.labels)
    labels.setdefault("alertname", alert.rule_id)
    labels.setdefault("rule_id", alert.rule_id)
    labels.setdefault("severity", alert.severity.label)
    labels.setdefault("tenant", alert.tenant_id)
    labels.setdefault("entity", alert.entity)
    origins = {str(sample["origin"]) for sample in alert.evidence if sample.get("origin")}
    if len(origins) == 1:
        labels.setdefault("service", origins.pop())
    return labels


def alert_annotations(alert: Alert) -> dict[str, str]:
    """Alertmanager-style annotations: the alert's human-readable text."""
    annotations = {"title": alert.title, "summary": alert.summary}
    if alert.description:
        annotations["description"] = alert.description
    runbook = alert.labels.get("runbook_url")
    if runbook:
        annotations["runbook_url"] = runbook
    return annotations


@dataclass(frozen=True)
class AlertState:
    """One alert inside the router: firing from ``starts_at`` until ``ends_at``."""

    alert: Alert
    labels: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime

    @property
    def fingerprint(self) -> str:
        return self.alert.id

    def resolved(self, now: datetime) -> bool:
        return self.ends_at <= now

    def status(self, now: datetime) -> Status:
        return "resolved" if self.resolved(now) else "firing"

    @classmethod
    def received(
        cls,
        alert: Alert,
        received_at: datetime,
        resolve_timeout: float,
        labels: Mapping[str, str] | None = None,
    ) -> AlertState:
        """The state of an alert the router has just received."""
        return cls(
            alert=alert,
            labels=dict(labels) if labels is not None else routing_labels(alert),
            starts_at=min(alert.first_seen, received_at),
            ends_at=received_at + timedelta(seconds=resolve_timeout),
            updated_at=received_at,
        )

    def refreshed(self, other: AlertState) -> AlertState:
        """This alert received again: the later end wins, the earlier start stays."""
        return AlertState(
            alert=other.alert,
            labels=other.labels,
            starts_at=min(self.starts_at, other.starts_at),
            ends_at=max(self.ends_at, other.ends_at),
            updated_at=max(self.updated_at, other.updated_at),
        )


def notification_id(group_id: str, integration: str, sequence: int) -> str:
    """The deterministic id of the ``sequence``-th notification of a group to an integration."""
    digest = hashlib.sha256(f"{group_id}\x00{integration}\x00{sequence}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"


def common_items(mappings: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The name/value pairs every mapping shares (Alertmanager's commonLabels)."""
    if not mappings:
        return {}
    common = dict(mappings[0])
    for mapping in mappings[1:]:
        common = {key: value for key, value in common.items() if mapping.get(key) == value}
    return common


@dataclass(frozen=True)
class Notification:
    """One delivery's content: a group's alerts at a flush, for one integration."""

    id: str
    group_id: str
    group_key: str
    receiver: str
    integration: str
    group_labels: Mapping[str, str]
    alerts: tuple[AlertState, ...]
    now: datetime
    sequence: int = 1
    route_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""

    @property
    def firing(self) -> tuple[AlertState, ...]:
        return tuple(a for a in self.alerts if not a.resolved(self.now))

    @property
    def resolved(self) -> tuple[AlertState, ...]:
        return tuple(a for a in self.alerts if a.resolved(self.now))

    @property
    def status(self) -> Status:
        return "firing" if self.firing else "resolved"

    @property
    def common_labels(self) -> dict[str, str]:
        return common_items([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return common_items([alert_annotations(a.alert) for a in self.alerts])

    def only_firing(self) -> Notification:
        """This notification without its resolved alerts (for ``send_resolved: false``)."""
        return Notification(
            id=self.id,
            group_id=self.group_id,
            group_key=self.group_key,
            receiver=self.receiver,
            integration=self.integration,
            group_labels=self.group_labels,
            alerts=self.firing,
            now=self.now,
            sequence=self.sequence,
            route_labels=self.route_labels,
            external_url=self.external_url,
        )
