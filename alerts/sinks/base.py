"""What every sink is, and the one place that decides whether a failure is worth retrying.

A sink does one attempt and reports how it went; it never sleeps, retries or
parks (that is the dispatcher's job, in one place for all sinks, as in
Alertmanager's notifiers). The HTTP sinks share :func:`post`, whose verdict is:

==========================  =========  ==========================================
outcome                     ok         retryable
==========================  =========  ==========================================
2xx                         yes        (n/a)
429, 5xx                    no         yes, after ``Retry-After`` on 429 and 503
network error, timeout      no         yes
any other status            no         no: the request itself is wrong; fix config
==========================  =========  ==========================================

Details never contain the sink's URL, which for Slack is itself the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from alerts.model import Alert
from alerts.redact import redact_text
from detectors.findings import Severity

__all__ = [
    "RETRY_AFTER_STATUSES",
    "USER_AGENT",
    "SendResult",
    "Sink",
    "is_retryable_status",
    "parse_retry_after",
    "post",
    "result_from_response",
]

USER_AGENT = "auditwatch-alerts/1"
RETRY_AFTER_STATUSES = frozenset({429, 503})
"""Statuses whose ``Retry-After`` header is honoured (RFC 9110 defines it for these)."""

_DETAIL_BODY_CHARS = 200


@dataclass(frozen=True, slots=True)
class SendResult:
    """How one delivery attempt went.

    ``retryable`` says whether another attempt could succeed; ``retry_after`` is
    the receiver's own wait in seconds, when it gave one. ``detail`` is a short
    human-readable reason, safe to log.
    """

    ok: bool
    retryable: bool = False
    retry_after: float | None = None
    detail: str = ""
    status_code: int | None = None

    @classmethod
    def delivered(cls, detail: str = "delivered", *, status_code: int | None = None) -> SendResult:
        return cls(ok=True, detail=detail, status_code=status_code)

    @classmethod
    def failed(
        cls,
        detail: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> SendResult:
        return cls(
            ok=False,
            retryable=retryable,
            retry_after=retry_after,
            detail=detail,
            status_code=status_code,
        )


class Sink(Protocol):
    """Something that delivers alerts: the console, a webhook, a Slack channel."""

    @property
    def name(self) -> str:
        """Unique among the configured sinks; parked notifications name it."""
        ...

    @property
    def min_severity(self) -> Severity:
        """Alerts below this severity are not sent here."""
        ...

    async def send(self, alert: Alert) -> SendResult:
        """Make one delivery attempt. Report failures in the result rather than raising."""
        ...


def is_retryable_status(status_code: int) -> bool:
    """429 and 5xx are the receiver's trouble, and may pass; other statuses will not."""
    return status_code == 429 or 500 <= status_code <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    A date in the past means "now" (0); a value that is neither form is ignored
    (None), so the normal backoff applies.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def result_from_response(response: httpx.Response, *, now: datetime | None = None) -> SendResult:
    """Classify a receiver's response according to the module's table."""
    status = response.status_code
    if response.is_success:
        return SendResult.delivered(f"HTTP {status}", status_code=status)
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    detail = f"HTTP {status} {response.reason_phrase}".rstrip()
    body = " ".join(response.text[:_DETAIL_BODY_CHARS].split())
    if body:
        detail = f"{detail}: {redact_text(body)}"
    if response.is_redirect:
        detail += "; the receiver redirects: configure its final URL"
    return SendResult.failed(
        detail,
        retryable=is_retryable_status(status),
        retry_after=retry_after,
        status_code=status,
    )


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
) -> SendResult:
    """POST once and classify the outcome; transport failures become results, not exceptions."""
    try:
        response = await client.post(url, content=content, headers=headers, timeout=timeout)
    except httpx.UnsupportedProtocol as exc:
        return SendResult.failed(_error_detail(exc, url), retryable=False)
    except httpx.TransportError as exc:
        return SendResult.failed(_error_detail(exc, url), retryable=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return SendResult.failed(_error_detail(exc, url), retryable=False)
    return result_from_response(response)


def _error_detail(exc: Exception, url: str) -> str:
    message = str(exc).replace(url, "<sink url>") or "no message"
    return f"{type(exc).__name__}: {redact_text(message)}"
