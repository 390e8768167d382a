"""What an integration is: one attempt to deliver one notification, and how it went.

An integration never retries, sleeps or parks: :mod:`alerts.integrations.delivery`
does, once for all of them, with the same verdicts as the per-alert sinks
(:func:`alerts.sinks.base.post`: 2xx delivered; 429, 5xx and network errors
worth retrying, after ``Retry-After`` when given; anything else not).
"""

from __future__ import annotations

from typing import Protocol

from alerts.notification import Notification
from alerts.sinks.base import SendResult

__all__ = ["Notifier"]


class Notifier(Protocol):
    @property
    def name(self) -> str:
        """``receiver/type/index``: unique, and what parked notifications name."""
        ...

    @property
    def send_resolved(self) -> bool:
        """Whether resolved alerts are sent (a notification with only resolved alerts is not)."""
        ...

    async def notify(self, notification: Notification) -> SendResult:
        """Make one delivery attempt. Report failures in the result rather than raising."""
        ...
