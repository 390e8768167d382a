"""The router's durable state, as JSON documents in three key-value stores.

The pipeline keeps each store in a changelog-backed table, so a restarted or
rebalanced worker rebuilds it; tests use dicts. All three are keyed by the
aggregation group's id (``route id:group labels``), so one partition holds a
group's whole state:

============  ===========================  =============================================
store         key                          value
============  ===========================  =============================================
groups        group id                     :class:`GroupState`: labels, member ids, timers
alerts        group id ``|`` fingerprint   :class:`StoredAlert`: the alert, its start and end
nflog         group id ``|`` integration   :class:`NflogEntry`: what was last notified, and
                                           the notification in flight (``pending``)
============  ===========================  =============================================

A group stores the fingerprints of its alerts, not the alerts, so adding the
50th alert to a group writes one small record, not fifty alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Alert
from alerts.notification import AlertState

__all__ = [
    "GroupState",
    "NflogEntry",
    "PendingNotification",
    "StoredAlert",
    "alert_key",
    "nflog_key",
]


def alert_key(group_id: str, fingerprint: str) -> str:
    return f"{group_id}|{fingerprint}"


def nflog_key(group_id: str, integration: str) -> str:
    return f"{group_id}|{integration}"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Self | None:
        return None if data is None else cls.model_validate(data)


class GroupState(_Doc):
    """One aggregation group: which alerts it holds and when it flushes next."""

    group_id: str
    group_key: str
    route_id: str
    receiver: str
    labels: dict[str, str]
    partition: int = Field(description="the partition whose events own this group's state")
    alert_ids: list[str] = Field(default_factory=list)
    created_at: datetime
    next_flush_at: datetime
    last_flush_at: datetime | None = None


class StoredAlert(_Doc):
    alert: Alert
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, state: AlertState) -> StoredAlert:
        return cls(
            alert=state.alert,
            labels=dict(state.labels),
            starts_at=state.starts_at,
            ends_at=state.ends_at,
            updated_at=state.updated_at,
        )

    def state(self) -> AlertState:
        return AlertState(
            alert=self.alert,
            labels=self.labels,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            updated_at=self.updated_at,
        )


class PendingNotification(_Doc):
    """A notification decided on and handed to delivery, not yet confirmed."""

    id: str
    sequence: int
    firing: list[str]
    resolved: list[str]
    created_at: datetime
    flushed_at: datetime = Field(description="the flush's clock, so a re-send shows the same statuses")


class NflogEntry(_Doc):
    """What one integration was last told about one group (Alertmanager's notification log)."""

    sequence: int = 0
    firing: list[str] = Field(default_factory=list)
    resolved: list[str] = Field(default_factory=list)
    sent_at: datetime | None = None
    pending: PendingNotification | None = None

    def is_firing_subset(self, firing: set[str]) -> bool:
        return firing <= set(self.firing)

    def is_resolved_subset(self, resolved: set[str]) -> bool:
        return resolved <= set(self.resolved)
