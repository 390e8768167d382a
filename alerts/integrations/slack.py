"""A group notification as one Slack Block Kit message, within Slack's limits by construction.

The limits are those of :mod:`alerts.sinks.slack` (50 blocks, 150 characters
in the header, 3000 in a section's text, 10 fields of 2000, 4000 in the
fallback ``text``). The layout:

* a header: the ``title`` template, or the alert's title (``3 alerts: ...``
  for several), marked ``[RESOLVED]`` when nothing fires any more;
* a summary section: the ``text`` template, or each alert's summary;
* fields: severity, who, what, how many, first and last seen, tenant;
* one section per alert, with its evidence, while blocks remain (then one
  section says how many alerts are not shown);
* a runbook link (the ``runbook_url`` template, or a ``runbook_url`` label);
* a context line: receiver, group and notification id.

Alert text and rendered templates are escaped, so evidence can neither ping
``<!channel>`` nor forge a link.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from alerts.describe import evidence_line
from alerts.integrations.config import SlackIntegrationConfig
from alerts.notification import AlertState, Notification
from alerts.redact import Redactor
from alerts.sinks.base import USER_AGENT, SendResult, post
from alerts.sinks.slack import (
    EMOJI,
    MAX_BLOCKS,
    MAX_EVIDENCE_LINE,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_TEXT,
    escape_mrkdwn,
    fit_mrkdwn,
)
from alerts.templates import Template, compile_template, render, template_context

__all__ = ["SlackNotifier", "slack_group_message"]

_ELLIPSIS = "…"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _mrkdwn(text: str, limit: int) -> str:
    return fit_mrkdwn(escape_mrkdwn(text), limit)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _names(values: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(values))
    if len(unique) <= limit:
        return ", ".join(unique)
    return f"{', '.join(unique[:limit])} and {len(unique) - limit} more"


def _alert_section(state: AlertState, status: str, max_evidence: int) -> str:
    alert = state.alert
    head = f"*{escape_mrkdwn(alert.title)}*" + (" (resolved)" if status == "resolved" else "")
    text = f"{head}\n{escape_mrkdwn(alert.summary)}"
    room = MAX_SECTION_TEXT - len(text)
    lines: list[str] = []
    for sample in alert.evidence[:max_evidence]:
        line = "\n• " + _mrkdwn(evidence_line(sample), MAX_EVIDENCE_LINE)
        if len(line) > room - 40:
            break
        lines.append(line)
        room -= len(line)
    if alert.evidence:
        text += f"\n_Evidence ({len(lines)} of {len(alert.evidence)} samples)_" + "".join(lines)
    return fit_mrkdwn(text, MAX_SECTION_TEXT)


def slack_group_message(
    notification: Notification,
    *,
    title: Template | None = None,
    text: Template | None = None,
    runbook_url: Template | None = None,
    max_evidence: int = 10,
) -> dict[str, Any]:
    """The incoming-webhook JSON for ``notification``; raises ``ValueError`` if a template fails."""
    now = notification.now
    states = list(notification.alerts)
    firing = notification.firing
    worst = max(state.alert.severity for state in (firing or states))
    emoji = EMOJI[worst]
    context = template_context(notification)
    resolved = notification.status == "resolved"

    if title is not None:
        heading = render(title, context).strip()
    elif len(states) == 1:
        heading = states[0].alert.title
    else:
        heading = f"{len(states)} alerts: {_names([s.alert.title for s in states], 1)}"
    heading = ("[RESOLVED] " if resolved else "") + (heading or "auditwatch alert")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{emoji} {heading}", MAX_HEADER_TEXT),
                "emoji": True,
            },
        }
    ]
    summary = render(text, context).strip() if text is not None else ""
    if not summary:
        summary = (
            "\n".join(f"• {s.alert.summary}" for s in states[:20])
            if len(states) > 1
            else states[0].alert.summary
        )
    blocks.append(_section(_mrkdwn(summary or "(no summary)", MAX_SECTION_TEXT)))
    counts = sum(s.alert.count for s in states)
    pairs = [
        ("Severity", f"{emoji} {worst.label}"),
        ("Who", _names([s.alert.entity for s in states])),
        ("What", _names([s.alert.rule_id for s in states])),
        ("How many", f"{counts} events in {len(states)} alert{'s' if len(states) != 1 else ''}"),
        ("First seen", f"{min(s.alert.first_seen for s in states):%Y-%m-%d %H:%M:%S} UTC"),
        ("Last seen", f"{max(s.alert.last_seen for s in states):%Y-%m-%d %H:%M:%S} UTC"),
        ("Tenant", _names([s.alert.tenant_id for s in states])),
        ("Status", f"{len(firing)} firing, {len(states) - len(firing)} resolved"),
    ]
    fields = [
        {"type": "mrkdwn", "text": fit_mrkdwn(f"*{name}*\n{escape_mrkdwn(value)}", MAX_FIELD_TEXT)}
        for name, value in pairs
    ]
    blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})

    link = render(runbook_url, context).strip() if runbook_url is not None else ""
    link = link or str(notification.common_labels.get("runbook_url", ""))
    tail: list[dict[str, Any]] = []
    if link.startswith(("https://", "http://")):
        safe = link.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        tail.append(_section(fit_mrkdwn(f":book: <{safe}|Runbook>", MAX_SECTION_TEXT)))
    tail.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": fit_mrkdwn(escape_mrkdwn(item), MAX_SECTION_TEXT)}
                for item in (
                    f"receiver {notification.receiver}",
                    f"group {notification.group_key}",
                    notification.id,
                )
            ],
        }
    )
    room = MAX_BLOCKS - len(blocks) - len(tail)
    shown = states if len(states) <= room else states[: room - 1]
    for state in shown:
        blocks.append(_section(_alert_section(state, state.status(now), max_evidence)))
    if len(shown) < len(states):
        blocks.append(_section(f"_…and {len(states) - len(shown)} more alerts not shown_"))
    blocks.extend(tail)
    fallback = f"{emoji} {heading}: {summary}"
    return {"text": _mrkdwn(fallback, MAX_TEXT), "blocks": blocks[:MAX_BLOCKS]}


class SlackNotifier:
    """Posts each notification to a Slack incoming webhook with the injected client."""

    def __init__(
        self,
        name: str,
        url: str,
        client: httpx.AsyncClient,
        config: SlackIntegrationConfig,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self.name = name
        self.send_resolved = config.send_resolved
        self._url = url
        self._client = client
        self._config = config
        self._redactor = redactor or Redactor()
        self._title = compile_template(config.title) if config.title is not None else None
        self._text = compile_template(config.text) if config.text is not None else None
        self._runbook = compile_template(config.runbook_url) if config.runbook_url is not None else None

    def __repr__(self) -> str:
        return f"SlackNotifier(name={self.name!r})"  # the URL is the credential

    def message(self, notification: Notification) -> dict[str, Any]:
        return slack_group_message(
            notification,
            title=self._title,
            text=self._text,
            runbook_url=self._runbook,
            max_evidence=self._config.max_evidence,
        )

    async def notify(self, notification: Notification) -> SendResult:
        try:
            message = self.message(notification)
        except ValueError as exc:
            return SendResult.failed(str(exc), retryable=False)
        body = json.dumps(self._redactor.redact(message), ensure_ascii=False).encode()
        headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
        return await post(
            self._client, self._url, content=body, headers=headers, timeout=self._config.timeout
        )
