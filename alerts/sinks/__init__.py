"""Where alerts go: each sink makes one delivery attempt and reports how it went.

Retrying, backoff and parking live in :mod:`alerts.delivery`, once for all sinks.
"""

from alerts.sinks.base import SendResult, Sink, parse_retry_after, post, result_from_response
from alerts.sinks.console import ConsoleSink
from alerts.sinks.slack import SlackSink, slack_message
from alerts.sinks.webhook import WebhookSink, webhook_payload

__all__ = [
    "ConsoleSink",
    "SendResult",
    "Sink",
    "SlackSink",
    "WebhookSink",
    "parse_retry_after",
    "post",
    "result_from_response",
    "slack_message",
    "webhook_payload",
]
