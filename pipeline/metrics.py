"""Prometheus metrics for operators. Served on 127.0.0.1 unless configured otherwise.

Every metric lives in the default registry, which ``/metrics`` (this module's
server, or the HTTP API's) exposes and ``GET /api/v1/health`` reads. Their
names are part of the API contract, so they change only with it.

Label values are bounded: rule ids (the loaded rule set), detector names,
receivers, topics and partitions. Entity ids, actors and IPs never become
labels. Free-form values that could grow without bound (an event's
``origin.system``) pass through :class:`BoundedLabel`, which folds every value
past its limit into ``"other"``.

The router's delivery counter (``auditwatch_router_notifications_total``) is
defined beside the router's observer in :mod:`pipeline.notify`; it carries an
``integration`` label besides ``receiver`` and ``outcome``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

__all__ = [
    "ALERTS_RAISED",
    "ARCHIVE_BYTES",
    "ARCHIVE_RECORDS_HELD",
    "BY_SOURCE",
    "CONSUMER_LAG",
    "DETECTOR_SECONDS",
    "DETECTOR_TIME",
    "EVENTS_ACCEPTED",
    "EVENTS_BY_SOURCE",
    "EVENTS_DEAD_LETTERED",
    "EVENTS_EVALUATED",
    "EVENTS_LATE",
    "LAST_EVENT_TIME",
    "MATCHES_BY_RULE",
    "NOTIFICATIONS",
    "NOTIFICATIONS_PARKED",
    "PARTITION_STALLED",
    "RECORDS_IN",
    "RULE_MATCHES",
    "SOURCES",
    "BoundedLabel",
    "Children",
    "directory_bytes",
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
RULE_MATCHES = Counter(
    "auditwatch_rule_matches_total",
    "Events a rule's detection matched (an alert needs a correlation's threshold too)",
    ["rule"],
)
DETECTOR_SECONDS = Histogram(
    "auditwatch_detector_seconds",
    "Seconds one detector took on one event: the rules engine, then each anomaly model",
    ["detector"],
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
NOTIFICATIONS_PARKED = Gauge(
    "auditwatch_notifications_parked",
    "Notifications held in the alerts dead-letter topic (parked), sampled by the monitor",
)
CONSUMER_LAG = Gauge(
    "auditwatch_consumer_lag",
    "Records in a partition not yet processed by this worker (highwater minus position)",
    ["topic", "partition"],
)
PARTITION_STALLED = Gauge(
    "auditwatch_partition_stalled",
    "1 while a partition's consumer makes no progress although records wait (see pipeline.stall)",
    ["topic", "partition"],
)
EVENTS_BY_SOURCE = Counter(
    "auditwatch_events_by_source_total",
    "Canonical events accepted per reporting system (origin.system; rare systems fold into 'other')",
    ["source"],
)
ARCHIVE_RECORDS_HELD = Gauge("auditwatch_archive_records", "Records held in the Merkle archive")
ARCHIVE_BYTES = Gauge("auditwatch_archive_bytes", "Bytes of the Merkle archive's log on disk")


class BoundedLabel:
    """Passes through the first ``limit`` distinct values, then answers ``other``.

    Prometheus keeps one series per label value for the life of the process,
    so a label fed from event data needs a ceiling.
    """

    OTHER = "other"

    def __init__(self, limit: int = 64) -> None:
        if limit < 1:
            raise ValueError("a bounded label needs a limit of at least 1")
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(value)
                return value
        return self.OTHER


class Children:
    """The children of a one-label metric, looked up once per value.

    ``metric.labels(value)`` takes a lock and builds a tuple on every call,
    which cost more than the counting on the per-event path; a child, once
    made, lives as long as the metric, so a dict of them is safe.
    ``bound`` caps the values (see :class:`BoundedLabel`).
    """

    def __init__(self, metric: Counter | Gauge | Histogram, bound: BoundedLabel | None = None) -> None:
        self._metric = metric
        self._bound = bound
        self._children: dict[str, Any] = {}

    def __call__(self, value: str) -> Any:
        child = self._children.get(value)
        if child is None:
            label = self._bound(value) if self._bound is not None else value
            child = self._children[value] = self._metric.labels(label)
        return child


SOURCES = BoundedLabel(64)
"""The ``source`` label of :data:`EVENTS_BY_SOURCE`."""
BY_SOURCE = Children(EVENTS_BY_SOURCE, SOURCES)
MATCHES_BY_RULE = Children(RULE_MATCHES)
DETECTOR_TIME = Children(DETECTOR_SECONDS)


def serve_metrics(host: str, port: int) -> None:
    """Start the /metrics endpoint (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)


def directory_bytes(root: Path) -> int:
    """Bytes of the regular files under ``root`` (0 if it does not exist); for the archive gauge."""
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):  # a segment sealed or removed while we walk
                total += os.stat(os.path.join(directory, name)).st_size
    return total
