"""Prometheus metrics for operators. Served on 127.0.0.1 unless configured otherwise."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

__all__ = [
    "ALERTS_RAISED",
    "EVENTS_ACCEPTED",
    "EVENTS_DEAD_LETTERED",
    "EVENTS_EVALUATED",
    "EVENTS_LATE",
    "LAST_EVENT_TIME",
    "NOTIFICATIONS",
    "RECORDS_IN",
    "serve_metrics",
]

RECORDS_IN = Counter("auditwatch_records_in_total", "Raw records read by ingest")
EVENTS_ACCEPTED = Counter("auditwatch_events_accepted_total", "Canonical events produced by ingest")
EVENTS_DEAD_LETTERED = Counter(
    "auditwatch_records_dead_lettered_total", "Records sent to the dead-letter queue"
)
EVENTS_LATE = Counter(
    "auditwatch_events_late_total", "Events too late to count in a correlation window", ["rule"]
)
EVENTS_EVALUATED = Counter("auditwatch_events_evaluated_total", "Events run through the rules")
ALERTS_RAISED = Counter("auditwatch_alerts_total", "Alerts raised", ["rule", "severity"])
NOTIFICATIONS = Counter(
    "auditwatch_notifications_total", "Notification outcomes per sink", ["sink", "outcome"]
)
LAST_EVENT_TIME = Gauge(
    "auditwatch_last_event_processed_timestamp_seconds",
    "Wall-clock time the detect stage last processed an event, per partition; a stall shows as age",
    ["partition"],
)


def serve_metrics(host: str, port: int) -> None:
    """Start the /metrics endpoint (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)
