"""Errors of the SDK, rooted in ``SdkError``.

- ``InvalidEvent``: an event does not match the canonical schema. Raised by
  ``AuditClient.emit`` before anything is queued; the message lists each
  failing field and why. It is a ``ValueError`` too.
- ``TransportError``: the broker could not take a batch. The client never lets
  it reach the application: it keeps, spools or counts the events instead.
"""

from __future__ import annotations

__all__ = ["InvalidEvent", "SdkError", "TransportError"]


class SdkError(Exception):
    """Root of the SDK's errors."""


class InvalidEvent(SdkError, ValueError):
    """The event does not match the canonical schema; fix the listed fields."""


class TransportError(SdkError):
    """A batch could not be delivered to the broker."""
