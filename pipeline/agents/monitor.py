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
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import faust
from faust.types import TP

from alerts.model import Alert
from pipeline import metrics
from pipeline.config import AuditwatchConfig
from pipeline.stall import PartitionSample, Resumed, StallDetector, resumed_alert, stall_alert

__all__ = ["PipelineMonitor", "register_monitor"]

log = logging.getLogger("auditwatch.monitor")


async def _position(consumer: Any, tp: TP) -> int | None:
    committed: int | None = consumer._committed_offset.get(tp)  # Faust keeps no public accessor
    if committed is not None:
        return committed
    position: int | None = await consumer.position(tp)
    return position


class PipelineMonitor:
    """One worker's sampling of its consumer; :meth:`sample` runs on the timer.

    ``consumer`` is Faust's consumer (or anything with its ``assignment``,
    ``highwater``, ``position``, ``earliest_offsets`` and ``highwaters``), so
    tests drive it with a fake one. ``send`` publishes an alert.
    """

    def __init__(
        self,
        *,
        watched: Iterable[str],
        parked: Iterable[TP],
        stall_after: float,
        send: Callable[[Alert], Awaitable[None]],
        worker: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topics = frozenset(watched)
        self.parked = list(parked)
        self.detector = StallDetector(stall_after)
        self.send = send
        self.worker = worker
        self.clock = clock
        self._shown: set[tuple[str, int]] = set()

    async def sample(self, consumer: Any) -> None:
        await self.sample_partitions(consumer)
        await self.sample_parked(consumer)

    async def sample_partitions(self, consumer: Any) -> None:
        try:
            assigned = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        except Exception:  # not started, or rebalancing
            return
        now = self.clock()
        current: set[tuple[str, int]] = set()
        for tp in assigned:
            highwater = consumer.highwater(tp)
            position = await _position(consumer, tp)
            if highwater is None or position is None:
                continue  # nothing fetched from this partition yet
            current.add((tp.topic, tp.partition))
            await self._observe(PartitionSample(tp.topic, tp.partition, position, highwater, now))
        for topic, partition in self._shown - current:  # revoked since the last sample
            self.detector.forget(topic, partition)
            for gauge in (metrics.CONSUMER_LAG, metrics.PARTITION_STALLED):
                with contextlib.suppress(KeyError):
                    gauge.remove(topic, str(partition))
        self._shown = current

    async def _observe(self, sample: PartitionSample) -> None:
        labels = (sample.topic, str(sample.partition))
        metrics.CONSUMER_LAG.labels(*labels).set(sample.lag)
        change = self.detector.observe(sample)
        stalled = self.detector.is_stalled(sample.topic, sample.partition)
        metrics.PARTITION_STALLED.labels(*labels).set(1 if stalled else 0)
        if change is None:
            return
        if isinstance(change, Resumed):
            alert = resumed_alert(change, worker=self.worker)
        else:
            alert = stall_alert(change, worker=self.worker)
        log.warning("%s", alert.summary)
        await self.send(alert)

    async def sample_parked(self, consumer: Any) -> None:
        try:
            earliest = await consumer.earliest_offsets(*self.parked)
            latest = await consumer.highwaters(*self.parked)
        except Exception as exc:  # not started yet, or the broker is away: try next time
            log.debug("could not read the parked notifications' offsets: %s", exc)
            return
        held = sum(max(0, latest[tp] - earliest[tp]) for tp in latest if tp in earliest)
        metrics.NOTIFICATIONS_PARKED.set(held)


def register_monitor(
    app: faust.App, config: AuditwatchConfig, *, alerts: Any, watched: Iterable[str], parked: str
) -> PipelineMonitor:
    """Add the monitor timer for the partitions of ``watched`` topics; see the module docstring."""

    async def send(alert: Alert) -> None:
        await alerts.send(key=alert.id.encode(), value=alert.to_json_bytes())

    monitor = PipelineMonitor(
        watched=watched,
        parked=[TP(parked, p) for p in range(config.kafka.partitions)],
        stall_after=config.metrics.stall_after_seconds,
        send=send,
        worker=f"{socket.gethostname()}/{app.conf.id}",
    )

    async def sample() -> None:
        await monitor.sample(app.consumer)

    app.timer(config.metrics.sample_seconds)(sample)
    return monitor
