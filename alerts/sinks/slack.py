"""Post alerts to a Slack channel through an incoming webhook, as a Block Kit message.

Slack rejects a whole message (HTTP 400, ``invalid_blocks``) when any one
block breaks a limit, and an alert carries text of any length, so every piece
is fitted to its limit here, by construction:

=====================================  ======
limit                                  value
=====================================  ======
blocks per message                     50
header text (plain_text)               150
section text (mrkdwn)                  3000
fields per section                     10
field text                             2000
context elements                       10
``text`` fallback (notifications)      4000
=====================================  ======

The layout: a header (severity emoji and title), the summary, the description
if any, fields (severity, who, what, how many, first and last seen, tenant),
an evidence section listing samples, and a context line with the rule, tenant
and alert id. Alert text is escaped (``&``, ``<``, ``>``), so evidence can
neither ping ``<!channel>`` nor forge links.

The incoming-webhook URL is the secret that lets anyone post to the channel:
it comes from the environment and stays out of reprs and error details.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from alerts.describe import evidence_line
from alerts.model import Alert
from alerts.sinks.base import USER_AGENT, SendResult, post
from detectors.findings import Severity

__all__ = [
    "MAX_BLOCKS",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_FIELDS",
    "MAX_FIELD_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_SECTION_TEXT",
    "MAX_TEXT",
    "SlackSink",
    "escape_mrkdwn",
    "fit_mrkdwn",
    "slack_message",
]

MAX_BLOCKS = 50
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 4000
MAX_EVIDENCE_LINE = 300
"""One evidence sample's line; longer samples are cut so that more samples fit."""

EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.LOW: ":large_blue_circle:",
    Severity.MEDIUM: ":large_orange_circle:",
    Severity.HIGH: ":red_circle:",
    Severity.CRITICAL: ":rotating_light:",
}

_ELLIPSIS = "…"
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def slack_message(alert: Alert, *, max_evidence: int = 10) -> dict[str, Any]:
    """The incoming-webhook JSON for ``alert``, within every limit in the module's table."""
    emoji = EMOJI[alert.severity]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{emoji} {alert.title}", MAX_HEADER_TEXT),
                "emoji": True,
            },
        },
        _section(_mrkdwn(alert.summary or "(no summary)", MAX_SECTION_TEXT)),
    ]
    if alert.description:
        blocks.append(_section(_mrkdwn(alert.description, MAX_SECTION_TEXT)))
    blocks.append({"type": "section", "fields": _fields(alert, emoji)[:MAX_FIELDS]})
    if alert.evidence:
        blocks.append(_section(_evidence(alert, max_evidence)))
    context = [
        f"rule `{_escape(alert.rule_id)}`",
        f"tenant `{_escape(alert.tenant_id)}`",
        f"alert `{alert.id}`",
    ]
    if alert.tags:
        context.append(_escape(", ".join(alert.tags)))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _fit(text, MAX_SECTION_TEXT)}
                for text in context[:MAX_CONTEXT_ELEMENTS]
            ],
        }
    )
    fallback = f"{emoji} {alert.severity.label.upper()}: {alert.title}: {alert.summary}"
    return {"text": _mrkdwn(fallback, MAX_TEXT), "blocks": blocks[:MAX_BLOCKS]}


class SlackSink:
    """Posts each alert to a Slack incoming webhook with the injected client."""

    def __init__(
        self,
        name: str,
        url: str,
        client: httpx.AsyncClient,
        *,
        min_severity: Severity = Severity.INFO,
        timeout: float = 10.0,
        max_evidence: int = 10,
    ) -> None:
        self.name = name
        self.min_severity = min_severity
        self._url = url
        self._client = client
        self._timeout = timeout
        self._max_evidence = max_evidence

    def __repr__(self) -> str:
        return f"SlackSink(name={self.name!r}, min_severity={self.min_severity.label!r})"

    async def send(self, alert: Alert) -> SendResult:
        message = slack_message(alert, max_evidence=self._max_evidence)
        body = json.dumps(message, ensure_ascii=False).encode()
        headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
        return await post(
            self._client, self._url, content=body, headers=headers, timeout=self._timeout
        )


def _fields(alert: Alert, emoji: str) -> list[dict[str, str]]:
    how_many = str(alert.count)
    if alert.threshold:
        how_many += f" ({alert.threshold})"
    pairs = [
        ("Severity", f"{emoji} {alert.severity.label}"),
        ("Who", alert.entity),
        ("What", alert.rule_id),
        ("How many", how_many),
        ("First seen", f"{alert.first_seen:%Y-%m-%d %H:%M:%S} UTC"),
        ("Last seen", f"{alert.last_seen:%Y-%m-%d %H:%M:%S} UTC"),
        ("Tenant", alert.tenant_id),
    ]
    return [
        {"type": "mrkdwn", "text": _fit(f"*{name}*\n{_escape(value)}", MAX_FIELD_TEXT)}
        for name, value in pairs
    ]


def _evidence(alert: Alert, max_evidence: int) -> str:
    """As many sample lines as fit in one section, under a heading that says how many."""
    total = len(alert.evidence)
    lines: list[str] = []
    # Leave room for the heading, whose first number is known only at the end.
    room = MAX_SECTION_TEXT - len(f"*Evidence* ({total} of {total} samples)")
    for sample in alert.evidence[:max_evidence]:
        line = "\n• " + _mrkdwn(evidence_line(sample), MAX_EVIDENCE_LINE)
        if len(line) > room:
            break
        lines.append(line)
        room -= len(line)
    return f"*Evidence* ({len(lines)} of {total} samples)" + "".join(lines)


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _mrkdwn(text: str, limit: int) -> str:
    return _fit(_escape(text), limit)


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as its docs require."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(escaped: str, limit: int) -> str:
    """Cut escaped text to ``limit`` characters, never inside an ``&amp;`` entity."""
    if len(escaped) <= limit:
        return escaped
    head = _PARTIAL_ENTITY.sub("", escaped[: limit - len(_ELLIPSIS)])
    return head + _ELLIPSIS


def _cut(text: str, limit: int) -> str:
    """Cut plain text to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


escape_mrkdwn = _escape
"""Escape Slack's mrkdwn control characters (``&``, ``<``, ``>``)."""
fit_mrkdwn = _fit
"""Cut escaped text to a limit, never inside an entity."""
