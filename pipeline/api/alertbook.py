"""The alert book: recent alerts and what responders did about them.

Alerts come in from the alerts topic; statuses (``firing`` until someone
acknowledges or resolves) change through the API. A status change is an
:class:`AlertState` (the alert's whole status history), which the worker
writes to a compacted topic keyed by alert id: every worker follows that
topic, so a change made through one worker is seen by all, and a restarted
worker reads it back. Two responders acting at once on two workers: the later
write wins, and both changes stay visible in that worker's history only.

The book is bounded (``capacity`` alerts, oldest dropped first), so a flood
of alerts costs a fixed amount of memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Alert
from pipeline.api.errors import TransitionError, UnknownAlertError

__all__ = ["AlertBook", "AlertState", "BookEntry", "Status", "StatusChange"]

Status = Literal["firing", "acknowledged", "resolved"]

_ALLOWED: dict[Status, set[Status]] = {
    "firing": {"acknowledged", "resolved"},
    "acknowledged": {"resolved"},
    "resolved": set(),
}


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    by: str
    comment: str | None = None
    at: datetime


class AlertState(BaseModel):
    """An alert's status and how it got there: the record of the status topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str = Field(min_length=1)
    status: Status = "firing"
    history: tuple[StatusChange, ...] = ()

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()


@dataclass(frozen=True)
class BookEntry:
    """One alert as the API shows it."""

    alert: Alert
    received: datetime
    state: AlertState

    @property
    def status(self) -> Status:
        return self.state.status

    def record(self) -> dict[str, Any]:
        """The contract's AlertRecord: the alert, its status and its history (firing first)."""
        fired = StatusChange(status="firing", by="auditwatch", at=self.received)
        return {
            "alert": self.alert.model_dump(mode="json"),
            "status": self.state.status,
            "history": [change.model_dump(mode="json") for change in (fired, *self.state.history)],
        }


class AlertBook:
    """The last ``capacity`` alerts with their states; see the module docstring."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._alerts: OrderedDict[str, tuple[Alert, datetime]] = OrderedDict()
        self._states: OrderedDict[str, AlertState] = OrderedDict()

    def add(self, alert: Alert, received: datetime | None = None) -> None:
        """Record an alert; the same id again (a redelivery) changes nothing."""
        if alert.id in self._alerts:
            return
        self._alerts[alert.id] = (alert, received or datetime.now(UTC))
        while len(self._alerts) > self.capacity:
            dropped, _ = self._alerts.popitem(last=False)
            self._states.pop(dropped, None)

    def apply(self, state: AlertState) -> None:
        """Take a state read from the status topic (it may come before its alert)."""
        self._states[state.alert_id] = state
        self._states.move_to_end(state.alert_id)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def get(self, alert_id: str) -> BookEntry | None:
        found = self._alerts.get(alert_id)
        if found is None:
            return None
        alert, received = found
        state = self._states.get(alert_id) or AlertState(alert_id=alert_id)
        return BookEntry(alert, received, state)

    def change(self, alert_id: str, status: Status, by: str, comment: str | None, at: datetime) -> AlertState:
        """The state after ``by`` moves the alert to ``status``; not applied until :meth:`apply`.

        Raises :class:`UnknownAlertError` or :class:`TransitionError`.
        """
        entry = self.get(alert_id)
        if entry is None:
            raise UnknownAlertError(f"no alert {alert_id!r} in this worker's book")
        if status not in _ALLOWED[entry.status]:
            raise TransitionError(f"alert {alert_id} is {entry.status}; it cannot become {status}")
        if status == "resolved" and not (comment or "").strip():
            raise TransitionError("resolving an alert needs a comment saying why")
        history = (*entry.state.history, StatusChange(status=status, by=by, comment=comment, at=at))
        return AlertState(alert_id=alert_id, status=status, history=history)

    def alerts(self) -> Iterator[Alert]:
        """Every alert, newest first, without its status (cheap: for counting)."""
        for alert, _ in reversed(self._alerts.values()):
            yield alert

    def status_of(self, alert_id: str) -> Status:
        state = self._states.get(alert_id)
        return "firing" if state is None else state.status

    def entries(self) -> Iterator[BookEntry]:
        """Every alert, newest first."""
        for alert_id in reversed(self._alerts):
            entry = self.get(alert_id)
            if entry is not None:
                yield entry

    def select(
        self,
        *,
        status: Status | None = None,
        severity: str | None = None,
        rule: str | None = None,
        entity: str | None = None,
        limit: int = 100,
    ) -> list[BookEntry]:
        """Alerts matching every filter given, newest first, at most ``limit``."""
        found: list[BookEntry] = []
        wanted = None if severity is None else severity.lower()
        for alert in self.alerts():  # filter on the alert first: an entry is built per match only
            if len(found) >= limit:
                break
            if rule is not None and alert.rule_id != rule:
                continue
            if entity is not None and alert.entity != entity:
                continue
            if wanted is not None and alert.severity.label != wanted:
                continue
            if status is not None and self.status_of(alert.id) != status:
                continue
            entry = self.get(alert.id)
            if entry is not None:
                found.append(entry)
        return found

    def __len__(self) -> int:
        return len(self._alerts)
