"""POST alerts as signed JSON to any HTTP receiver.

The body is a small, versioned envelope around the alert's JSON (its fields are
documented in :mod:`alerts.model`)::

    {"version": "1", "type": "alert", "alert": {"id": "...", "rule_id": "...", ...}}

Receivers should check ``version`` and ignore fields they do not know: fields
may be added within a version, never removed or changed in meaning.

Every request carries the Standard Webhooks headers (:mod:`alerts.signing`):

* ``webhook-id``: the alert id, the same on every retry and redelivery, so a
  receiver deduplicates on it;
* ``webhook-timestamp``: when this attempt was signed. Each attempt is signed
  afresh, so a retry after minutes of backoff still passes a receiver's
  five-minute tolerance;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256>``; verify it with
  :func:`alerts.signing.verify` or any Standard Webhooks library;
* ``traceparent`` (W3C trace context), when the alert's event carried one
  (:func:`alerts.model.traceparent`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from alerts.model import Alert, traceparent
from alerts.signing import Secret, decode_secret, signature_headers
from alerts.sinks.base import USER_AGENT, SendResult, post
from detectors.findings import Severity

__all__ = ["PAYLOAD_TYPE", "PAYLOAD_VERSION", "WebhookSink", "webhook_payload"]

PAYLOAD_VERSION = "1"
PAYLOAD_TYPE = "alert"


def webhook_payload(alert: Alert) -> bytes:
    """The exact bytes POSTed (and signed) for ``alert``."""
    envelope = {
        "version": PAYLOAD_VERSION,
        "type": PAYLOAD_TYPE,
        "alert": alert.model_dump(mode="json"),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSink:
    """Signs and POSTs each alert to ``url`` with the injected client.

    ``secret`` is decoded here, so a malformed key fails at start-up with an
    :class:`~alerts.errors.AlertConfigError` rather than at the first alert.
    ``clock`` (seconds since the epoch) is injectable for tests.
    """

    def __init__(
        self,
        name: str,
        url: str,
        secret: Secret,
        client: httpx.AsyncClient,
        *,
        min_severity: Severity = Severity.INFO,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.min_severity = min_severity
        self._url = url
        self._key = decode_secret(secret)
        self._client = client
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        # The URL and the key stay out of logs.
        return f"WebhookSink(name={self.name!r}, min_severity={self.min_severity.label!r})"

    async def send(self, alert: Alert) -> SendResult:
        body = webhook_payload(alert)
        headers = signature_headers(self._key, alert.id, int(self._clock()), body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        if (parent := traceparent(alert)) is not None:
            headers["traceparent"] = parent
        return await post(
            self._client, self._url, content=body, headers=headers, timeout=self._timeout
        )
