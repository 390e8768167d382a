"""The read-only views the dashboard draws: rules with hit counts, trends, pipeline health.

Each is a pure function of the alert book, the rule set and the metrics
registry, so tests call them with a registry of their own.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from detectors.rules import RuleSet
from pipeline.api.alertbook import AlertBook
from pipeline.api.samples import by_label, labelled, total

__all__ = ["RateMeter", "health_view", "rules_view", "trends_view"]


def rules_view(ruleset: RuleSet, registry: CollectorRegistry = REGISTRY) -> list[dict[str, Any]]:
    """Each loaded rule with its matches and alerts since the worker started."""
    matches = by_label("auditwatch_rule_matches_total", "rule", registry)
    alerts = by_label("auditwatch_alerts_total", "rule", registry)
    return [
        {
            "id": rule.key,
            "title": rule.meta.title,
            "level": rule.meta.level,
            "kind": rule.kind,
            "status": rule.meta.status,
            "matches": int(matches.get(rule.key, 0)),
            "alerts": int(alerts.get(rule.key, 0)),
        }
        for rule in ruleset.rules
    ]


def trends_view(
    book: AlertBook,
    hours: int,
    now: datetime | None = None,
    registry: CollectorRegistry = REGISTRY,
    top: int = 10,
) -> dict[str, Any]:
    """Alerts per hour (by severity and by rule) over the last ``hours``, events per source, top entities.

    Alerts are placed by when they fired (``last_seen``, the event time that
    made them); alerts older than the window are left out.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    end = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    buckets: list[dict[str, Any]] = [
        {"start": (start + timedelta(hours=i)).isoformat(), "by_severity": {}, "by_rule": {}}
        for i in range(hours)
    ]
    entities: Counter[str] = Counter()
    for alert in book.alerts():
        fired = alert.last_seen.astimezone(UTC)
        if not start <= fired < end:
            continue
        bucket = buckets[int((fired - start).total_seconds() // 3600)]
        severity, rule = alert.severity.label, alert.rule_id
        bucket["by_severity"][severity] = bucket["by_severity"].get(severity, 0) + 1
        bucket["by_rule"][rule] = bucket["by_rule"].get(rule, 0) + 1
        entities[alert.entity] += 1
    sources = by_label("auditwatch_events_by_source_total", "source", registry)
    return {
        "alerts_over_time": buckets,
        "events_by_source": {source: int(n) for source, n in sorted(sources.items())},
        "top_entities": [
            {"entity": e, "alerts": n}
            for e, n in sorted(entities.items(), key=lambda en: (-en[1], en[0]))[:top]
        ],
    }


class RateMeter:
    """Events per second from a monotonically growing counter, between two reads.

    The first read has nothing to compare with and answers 0; later reads at
    least ``min_interval`` apart refresh the rate, closer ones repeat it.
    """

    def __init__(self, read: Callable[[], float], min_interval: float = 1.0) -> None:
        self.read = read
        self.min_interval = min_interval
        self._last: tuple[float, float] | None = None
        self.rate = 0.0

    def __call__(self, clock: Callable[[], float] = time.monotonic) -> float:
        moment, value = clock(), self.read()
        if self._last is None:
            self._last = (moment, value)
        elif moment - self._last[0] >= self.min_interval:
            self.rate = max(0.0, (value - self._last[1]) / (moment - self._last[0]))
            self._last = (moment, value)
        return self.rate


def health_view(
    rate: Callable[[], float],
    last_checkpoint: dict[str, Any] | None = None,
    now: float | None = None,
    registry: CollectorRegistry = REGISTRY,
    events_topic: str | None = None,
) -> dict[str, Any]:
    """Per-partition lag, age of the last event and stall flag, plus the pipeline's totals.

    The age of the last event is the detect stage's, which reads ``events_topic``:
    it goes on that topic's rows only (on every topic's when the name is not given).
    """
    moment = time.time() if now is None else now
    partitions: dict[tuple[str, str], dict[str, Any]] = {}

    def row(topic: str, partition: str) -> dict[str, Any]:
        return partitions.setdefault(
            (topic, partition),
            {
                "topic": topic,
                "partition": int(partition) if partition.isdigit() else partition,
                "lag": None,
                "last_event_age_seconds": None,
                "stalled": False,
            },
        )

    for labels, value in labelled("auditwatch_consumer_lag", registry):
        row(labels.get("topic", ""), labels.get("partition", ""))["lag"] = int(value)
    for labels, value in labelled("auditwatch_partition_stalled", registry):
        row(labels.get("topic", ""), labels.get("partition", ""))["stalled"] = value >= 1
    ages = {
        labels.get("partition", ""): max(0.0, moment - value)
        for labels, value in labelled("auditwatch_last_event_processed_timestamp_seconds", registry)
    }
    for (topic, partition), entry in partitions.items():
        if events_topic is None or topic == events_topic:
            entry["last_event_age_seconds"] = ages.get(partition)
    if events_topic is not None:
        for partition, age in ages.items():
            if (events_topic, partition) not in partitions:  # processed, but no lag sampled yet
                row(events_topic, partition)["last_event_age_seconds"] = age
    return {
        "partitions": sorted(partitions.values(), key=lambda p: (p["topic"], str(p["partition"]))),
        "events_per_second": round(rate(), 3),
        "records_in": int(total("auditwatch_records_in_total", registry)),
        "dead_lettered": int(total("auditwatch_records_dead_lettered_total", registry)),
        "parked_notifications": int(total("auditwatch_notifications_parked", registry)),
        "last_checkpoint": last_checkpoint,
    }
