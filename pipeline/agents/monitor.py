"""The monitor timer: consumer lag, stalls and parked notifications, sampled every few seconds.

Every ``metrics.sample_seconds`` it reads, for each partition of the agents'
source topics assigned to this worker, the consumer's position (the offset it
has committed, i.e. processed; before the first commit, its fetch position)
and the partition's highwater, and:

* sets ``auditwatch_consumer_lag{topic,partition}``;
* feeds :class:`pipeline.stall.StallDetector`, sets
  ``auditwatch_partition_stalled`` and sends a stall alert (then a resolution)
  to the alerts topic, so it is routed like any other alert;
* sets ``auditwatch_notifications_parked`` to the records held in the alerts
  dead-letter topic.

Table changelog partitions are left out on purpose: after recovery nothing
consumes them while the producer keeps writing, which would look like a stall.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterable
from typing import Any

import faust
from faust.types import TP

from pipeline import metrics
from pipeline.config import AuditwatchConfig
from pipeline.stall import PartitionSample, Resumed, StallDetector, resumed_alert, stall_alert

__all__ = ["register_monitor"]

log = logging.getLogger("auditwatch.monitor")


async def _position(consumer: Any, tp: TP) -> int | None:
    committed: int | None = consumer._committed_offset.get(tp)  # Faust keeps no public accessor
    if committed is not None:
        return committed
    position: int | None = await consumer.position(tp)
    return position


def register_monitor(
    app: faust.App, config: AuditwatchConfig, *, alerts: Any, watched: Iterable[str], parked: str
) -> None:
    """Add the monitor timer for the partitions of ``watched`` topics; see the module docstring."""
    topics = frozenset(watched)
    detector = StallDetector(config.metrics.stall_after_seconds)
    worker = f"{socket.gethostname()}/{app.conf.id}"
    shown: set[tuple[str, int]] = set()
    parked_tps = [TP(parked, p) for p in range(config.kafka.partitions)]

    async def sample_partitions() -> None:
        consumer = app.consumer
        try:
            assigned = [tp for tp in consumer.assignment() if tp.topic in topics]
        except Exception:  # not started, or rebalancing
            return
        now = time.time()
        current: set[tuple[str, int]] = set()
        for tp in assigned:
            highwater = consumer.highwater(tp)
            position = await _position(consumer, tp)
            if highwater is None or position is None:
                continue  # nothing fetched from this partition yet
            sample = PartitionSample(tp.topic, tp.partition, position, highwater, now)
            labels = (tp.topic, str(tp.partition))
            current.add((tp.topic, tp.partition))
            metrics.CONSUMER_LAG.labels(*labels).set(sample.lag)
            change = detector.observe(sample)
            stalled = detector.is_stalled(tp.topic, tp.partition)
            metrics.PARTITION_STALLED.labels(*labels).set(1 if stalled else 0)
            if change is None:
                continue
            if isinstance(change, Resumed):
                alert = resumed_alert(change, worker=worker)
            else:
                alert = stall_alert(change, worker=worker)
            log.warning("%s", alert.summary)
            await alerts.send(key=alert.id.encode(), value=alert.to_json_bytes())
        for topic, partition in shown - current:  # revoked since the last sample
            detector.forget(topic, partition)
            for gauge in (metrics.CONSUMER_LAG, metrics.PARTITION_STALLED):
                with contextlib.suppress(KeyError):
                    gauge.remove(topic, str(partition))
        shown.clear()
        shown.update(current)

    async def sample_parked() -> None:
        try:
            earliest = await app.consumer.earliest_offsets(*parked_tps)
            latest = await app.consumer.highwaters(*parked_tps)
        except Exception as exc:  # not started yet, or the broker is away: try next time
            log.debug("could not read the offsets of %s: %s", parked, exc)
            return
        held = sum(max(0, latest[tp] - earliest[tp]) for tp in latest if tp in earliest)
        metrics.NOTIFICATIONS_PARKED.set(held)

    async def monitor() -> None:
        await sample_partitions()
        await sample_parked()

    app.timer(config.metrics.sample_seconds)(monitor)
