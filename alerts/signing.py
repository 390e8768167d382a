"""Standard Webhooks signatures, so receivers can tell our alerts from forgeries.

We follow the Standard Webhooks spec (symmetric ``v1`` scheme) rather than
inventing a header, because receivers then verify with any of its libraries::

    signed content    = f"{webhook-id}.{webhook-timestamp}.{body}"
    webhook-signature = "v1," + base64(HMAC-SHA256(key, signed content))

The key is given as ``whsec_<base64>`` (the form the spec's libraries print),
as bare base64, or as raw bytes. The header may hold several space-separated
signatures (during a key rotation, one per key); a message is valid when any
``v1`` one matches. The timestamp is part of the signed content and must be
within ``tolerance`` of the receiver's clock, which stops an attacker from
replaying a captured request later.

>>> sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
...      1614265330, b'{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

from alerts.errors import AlertConfigError, SignatureError

__all__ = [
    "DEFAULT_TOLERANCE",
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "decode_secret",
    "sign",
    "signature_headers",
    "verify",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300.0
"""Seconds a timestamp may differ from the receiver's clock (the reference libraries' 5 min)."""

_VERSION = "v1"

Secret = str | bytes
"""A signing key: ``whsec_<base64>`` or bare base64 text, or the raw key bytes."""


def decode_secret(secret: Secret) -> bytes:
    """The raw HMAC key of ``secret``.

    Raises :class:`AlertConfigError` if text is not valid base64 or the key is empty.
    """
    if isinstance(secret, bytes):
        key = secret
    else:
        text = secret.strip().removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise AlertConfigError(
                "the webhook signing secret is not base64; give it as 'whsec_<base64>', "
                'for example the output of: python -c "import base64, os; '
                "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
            ) from None
    if not key:
        raise AlertConfigError("the webhook signing secret is empty; set a random key of 32 bytes")
    return key


def sign(secret: Secret, msg_id: str, timestamp: int | datetime, body: bytes | str) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``) for one message."""
    return _signature(decode_secret(secret), msg_id, _seconds(timestamp), _bytes(body))


def signature_headers(
    secret: Secret, msg_id: str, timestamp: int | datetime, body: bytes | str
) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    seconds = _seconds(timestamp)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(seconds),
        SIGNATURE_HEADER: _signature(decode_secret(secret), msg_id, seconds, _bytes(body)),
    }


def verify(
    secret: Secret,
    body: bytes | str,
    headers: Mapping[str, str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a received message; raise :class:`SignatureError` saying why if it is not ours.

    ``headers`` may be any mapping (header names are matched without regard to
    case); ``body`` must be the raw bytes received, before any JSON parsing.
    ``now`` (seconds since the epoch) defaults to the current time.
    """
    msg_id = _header(headers, ID_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    presented = _header(headers, SIGNATURE_HEADER)
    try:
        seconds = int(stamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not an integer: {stamp!r}") from None
    current = time.time() if now is None else now
    if abs(current - seconds) > tolerance:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} {seconds} is {current - seconds:+.0f} s from now, outside "
            f"the {tolerance:.0f} s tolerance; check both clocks, or it is a replay"
        )
    expected = _signature(decode_secret(secret), msg_id, seconds, _bytes(body))
    candidates = [sig for sig in presented.split() if sig.startswith(f"{_VERSION},")]
    # Compare against every candidate, so timing does not reveal which one was close.
    matches = [hmac.compare_digest(expected.encode(), sig.encode()) for sig in candidates]
    if not any(matches):
        raise SignatureError(
            f"no {_VERSION} signature in {SIGNATURE_HEADER} matches the body; "
            "check that the receiver uses the sender's secret and the raw body"
        )


def _signature(key: bytes, msg_id: str, seconds: int, body: bytes) -> str:
    content = b"%s.%d.%s" % (msg_id.encode(), seconds, body)
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode()}"


def _seconds(timestamp: int | datetime) -> int:
    return int(timestamp.timestamp()) if isinstance(timestamp, datetime) else int(timestamp)


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        raise SignatureError(f"the {name} header is missing; is the sender a Standard Webhook?")
    return value
