"""The errors ``alerts`` raises, all under one root so a caller can catch them together.

::

    AlertError
    ├── AlertConfigError   the alerts config or the environment is wrong (fix it and restart)
    ├── AlertDecodeError   bytes are not a valid alert or parked-notification document
    ├── SignatureError     a webhook signature did not verify (raised for receivers)
    └── DeliveryError      the delivery machinery itself failed
        └── ParkError      an undelivered alert could not be parked either

A sink that cannot deliver does not raise: it returns a failed ``SendResult`` and
the dispatcher parks the alert. ``DeliveryError`` is kept for the rarer case in
which the alert would otherwise be lost, so the caller must not acknowledge the
input that produced it.

Messages say what to change, and never contain a secret (a webhook URL or a
signing key): they name the environment variable that holds it instead.
"""

from __future__ import annotations

__all__ = [
    "AlertConfigError",
    "AlertDecodeError",
    "AlertError",
    "DeliveryError",
    "ParkError",
    "SignatureError",
]


class AlertError(Exception):
    """Root of every error raised by ``alerts``."""


class AlertConfigError(AlertError):
    """The alerts config or the environment it points to is wrong."""


class AlertDecodeError(AlertError):
    """Bytes that should hold an alert (or a parked notification) do not."""


class SignatureError(AlertError):
    """A webhook's signature headers are missing, stale or do not match its body."""


class DeliveryError(AlertError):
    """Delivery failed in a way that puts the alert at risk of being lost."""


class ParkError(DeliveryError):
    """An alert that could not be delivered could not be parked either.

    The caller should not commit the input offset, so that the alert is
    rebuilt and dispatched again.
    """
