"""Alerts: the alert model built from findings, and the sinks that deliver it.

This package never imports faust, aiokafka or ``pipeline``; of ``detectors`` it
uses only the finding type. The pipeline calls, in order::

    config = AlertsConfig.model_validate(yaml_section)          # at start-up
    dispatcher = build_dispatcher(config, client, os.environ, park)
    alert = build_alert(finding, redactor=config.redactor())     # per finding
    reports = await dispatcher.dispatch(alert)

and supplies ``park``, an async callback that stores a :class:`ParkedNotification`
durably (a dead-letter topic, a file).
"""

from alerts.config import (
    AlertsConfig,
    ConsoleSinkConfig,
    DeliveryConfig,
    SinkConfig,
    SlackSinkConfig,
    WebhookSinkConfig,
    build_dispatcher,
    build_sinks,
)
from alerts.delivery import (
    DeliveryReport,
    Dispatcher,
    Outcome,
    Park,
    ParkedNotification,
    RetryPolicy,
)
from alerts.errors import (
    AlertConfigError,
    AlertDecodeError,
    AlertError,
    DeliveryError,
    ParkError,
    SignatureError,
)
from alerts.model import Alert, alert_id, build_alert
from alerts.redact import Redactor, redact_text
from alerts.signing import sign, verify
from alerts.sinks import ConsoleSink, SendResult, Sink, SlackSink, WebhookSink

__all__ = [
    "Alert",
    "AlertConfigError",
    "AlertDecodeError",
    "AlertError",
    "AlertsConfig",
    "ConsoleSink",
    "ConsoleSinkConfig",
    "DeliveryConfig",
    "DeliveryError",
    "DeliveryReport",
    "Dispatcher",
    "Outcome",
    "Park",
    "ParkError",
    "ParkedNotification",
    "Redactor",
    "RetryPolicy",
    "SendResult",
    "SignatureError",
    "Sink",
    "SinkConfig",
    "SlackSink",
    "SlackSinkConfig",
    "WebhookSink",
    "WebhookSinkConfig",
    "alert_id",
    "build_alert",
    "build_dispatcher",
    "build_sinks",
    "redact_text",
    "sign",
    "verify",
]
