"""PagerDuty Events API v2: one incident per aggregation group, triggered then resolved.

The ``dedup_key`` is the SHA-256 of the group key (as Alertmanager does), so
every notification of a group updates the same incident, and the one that
says all its alerts are resolved resolves it. The trigger's fields are
within PagerDuty's limits (``summary`` at most 1024 characters); its
``custom_details`` list the alerts (title, summary, entity, count, times).

Severity is ``critical`` for a critical alert, ``error`` for high,
``warning`` for medium and ``info`` below, from the group's most severe alert,
unless the ``severity`` template says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from alerts.integrations.config import PagerDutyIntegrationConfig
from alerts.notification import Notification
from alerts.redact import Redactor
from alerts.sinks.base import USER_AGENT, SendResult, post
from alerts.templates import compile_template, render, template_context
from detectors.findings import Severity

__all__ = ["MAX_SUMMARY", "PagerDutyNotifier", "dedup_key", "pagerduty_event"]

MAX_SUMMARY = 1024
MAX_DETAILS_ALERTS = 20
_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFO: "info",
}
_VALID = ("critical", "error", "warning", "info")


def dedup_key(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pagerduty_event(
    notification: Notification, routing_key: str, config: PagerDutyIntegrationConfig
) -> dict[str, Any]:
    """The event for ``notification``: ``resolve`` when nothing fires, else ``trigger``."""
    key = dedup_key(notification.group_key)
    if notification.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": key}
    context = template_context(notification)
    firing = notification.firing
    worst = max(state.alert.severity for state in firing)

    def text(template: str | None, default: str) -> str:
        return render(compile_template(template), context).strip() if template is not None else default

    default_summary = (
        firing[0].alert.title if len(firing) == 1 else f"{len(firing)} alerts: {firing[0].alert.title}"
    )
    severity = text(config.severity, _SEVERITY[worst])
    if severity not in _VALID:
        severity = _SEVERITY[worst]  # a template that renders nonsense must not lose the page
    payload: dict[str, Any] = {
        "summary": _cut(text(config.summary, default_summary) or default_summary, MAX_SUMMARY),
        "source": _cut(text(config.source, "auditwatch") or "auditwatch", 255),
        "severity": severity,
        "timestamp": min(state.starts_at for state in firing).isoformat(),
        "custom_details": {
            "firing": len(firing),
            "resolved": len(notification.resolved),
            "group_labels": dict(notification.group_labels),
            "alerts": [
                {
                    "title": state.alert.title,
                    "summary": state.alert.summary,
                    "entity": state.alert.entity,
                    "severity": state.alert.severity.label,
                    "count": state.alert.count,
                    "first_seen": state.alert.first_seen.isoformat(),
                    "last_seen": state.alert.last_seen.isoformat(),
                    "alert_id": state.alert.id,
                }
                for state in firing[:MAX_DETAILS_ALERTS]
            ],
        },
    }
    for field, template in (
        ("component", config.component),
        ("group", config.group),
        ("class", config.class_),
    ):
        if template is not None:
            payload[field] = _cut(text(template, ""), 255)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": payload,
        "client": config.client,
    }
    if config.client_url is not None:
        event["client_url"] = text(config.client_url, "")
    return event


class PagerDutyNotifier:
    def __init__(
        self,
        name: str,
        routing_key: str,
        client: httpx.AsyncClient,
        config: PagerDutyIntegrationConfig,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self.name = name
        self.send_resolved = config.send_resolved
        self._key = routing_key
        self._client = client
        self._config = config
        self._redactor = redactor or Redactor()

    def __repr__(self) -> str:
        return f"PagerDutyNotifier(name={self.name!r})"

    async def notify(self, notification: Notification) -> SendResult:
        try:
            event = pagerduty_event(notification, self._key, self._config)
        except ValueError as exc:  # a template failing on this notification's data
            return SendResult.failed(str(exc), retryable=False)
        routing_key = event.pop("routing_key")
        body = self._redactor.redact(event)
        body["routing_key"] = routing_key  # the key itself must survive redaction
        content = json.dumps(body, ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        return await post(
            self._client, self._config.url, content=content, headers=headers, timeout=self._config.timeout
        )
