"""A signed POST of the whole group, in Alertmanager's webhook (version 4) shape.

Receivers written for Alertmanager's webhook read it as they are; auditwatch
adds what they may use and ignore otherwise (``notificationId`` and, in each
alert, the full auditwatch alert under ``auditwatch``)::

    {"version": "4", "groupKey": "{}/{severity=~\\"critical|high\\"}:{alertname=\\"...\\"}",
     "truncatedAlerts": 0, "status": "firing", "receiver": "secops-pager",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "", "notificationId": "ntf_...",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {"title": ..., "summary": ...},
                 "startsAt": "...", "endsAt": "...", "generatorURL": "", "fingerprint": "3f2a...",
                 "auditwatch": {...the alert: evidence, event ids, counts...}}]}

``endsAt`` is when the alert resolves unless raised again. When an alert's
event carried W3C trace context, the request has a ``traceparent`` header
(:func:`alerts.model.traceparent`) and each alert its ``trace_id``/``span_id``. The body is signed
per Standard Webhooks; ``webhook-id`` is the notification id, the same when a
notification is re-sent after a crash or redelivered from the dead-letter
topic, so a receiver deduplicates on it. Within version ``"4"`` fields may be
added, never removed or changed in meaning.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from alerts.model import traceparent
from alerts.notification import Notification, alert_annotations
from alerts.redact import Redactor
from alerts.signing import Secret, decode_secret, signature_headers
from alerts.sinks.base import USER_AGENT, SendResult, post

__all__ = ["PAYLOAD_VERSION", "WebhookNotifier", "group_payload", "rfc3339"]

PAYLOAD_VERSION = "4"


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def group_payload(notification: Notification, *, max_alerts: int = 0) -> dict[str, Any]:
    """The JSON document for ``notification`` (``max_alerts`` > 0 keeps the first that many)."""
    now = notification.now
    shown = notification.alerts if max_alerts <= 0 else notification.alerts[:max_alerts]
    return {
        "version": PAYLOAD_VERSION,
        "groupKey": notification.group_key,
        "truncatedAlerts": len(notification.alerts) - len(shown),
        "status": notification.status,
        "receiver": notification.receiver,
        "groupLabels": dict(notification.group_labels),
        "commonLabels": notification.common_labels,
        "commonAnnotations": notification.common_annotations,
        "externalURL": notification.external_url,
        "notificationId": notification.id,
        "alerts": [
            {
                "status": state.status(now),
                "labels": dict(state.labels),
                "annotations": alert_annotations(state.alert),
                "startsAt": rfc3339(state.starts_at),
                "endsAt": rfc3339(state.ends_at),
                "generatorURL": "",
                "fingerprint": state.fingerprint,
                "auditwatch": state.alert.model_dump(mode="json"),
            }
            for state in shown
        ],
    }


class WebhookNotifier:
    """Signs and POSTs each notification to ``url`` with the injected client."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: Secret,
        client: httpx.AsyncClient,
        *,
        send_resolved: bool = True,
        max_alerts: int = 0,
        timeout: float = 10.0,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.send_resolved = send_resolved
        self._url = url
        self._key = decode_secret(secret)
        self._client = client
        self._max_alerts = max_alerts
        self._timeout = timeout
        self._redactor = redactor or Redactor()
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r})"  # the URL and the key stay out of logs

    def body(self, notification: Notification) -> bytes:
        payload = self._redactor.redact(group_payload(notification, max_alerts=self._max_alerts))
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    async def notify(self, notification: Notification) -> SendResult:
        body = self.body(notification)
        headers = signature_headers(self._key, notification.id, int(self._clock()), body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        if (parent := traceparent(*(state.alert for state in notification.alerts))) is not None:
            headers["traceparent"] = parent
        return await post(self._client, self._url, content=body, headers=headers, timeout=self._timeout)
