"""One interface for everything that keeps an alert quiet: inhibition, silences, time intervals.

A :class:`Muter` answers, for an alert's labels at a moment, why it is muted,
or ``None`` when it is not. The notification pipeline asks each muter in turn
(inhibitor, time intervals, silencer, as Alertmanager does) and drops muted
alerts from the notification; the reason goes to logs and to ``routes test``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from alerts.router.timeinterval import TimeIntervalConfig, in_any_interval

__all__ = ["Muter", "TimeMuter", "first_reason"]


class Muter(Protocol):
    def mutes(self, labels: Mapping[str, str], now: datetime) -> str | None:
        """Why an alert with ``labels`` is muted at ``now``; ``None`` if it is not."""
        ...


@dataclass(frozen=True)
class TimeMuter:
    """A route's ``mute_time_intervals`` and ``active_time_intervals``; labels do not matter."""

    mute: Sequence[str]
    active: Sequence[str]
    intervals: Mapping[str, TimeIntervalConfig]

    def mutes(self, labels: Mapping[str, str], now: datetime) -> str | None:
        muting = in_any_interval(self.mute, self.intervals, now)
        if muting is not None:
            return f"muted: time interval {muting!r}"
        if self.active and in_any_interval(self.active, self.intervals, now) is None:
            return f"muted: outside the active time intervals {', '.join(self.active)}"
        return None


def first_reason(muters: Sequence[Muter], labels: Mapping[str, str], now: datetime) -> str | None:
    """The first muter's reason, or None when no muter mutes the alert."""
    for muter in muters:
        reason = muter.mutes(labels, now)
        if reason is not None:
            return reason
    return None
