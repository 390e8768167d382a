"""The monitor timer: consumer lag, stalls and parked notifications, sampled every few seconds.

Every ``metrics.sample_seconds`` it reads, for each partition of the agents'
source topics assigned to this worker, the consumer's position and the
partition's highwater, and:

* sets ``auditwatch_consumer_lag{topic,partition}``;
* feeds :class:`pipeline.stall.StallDetector`, sets
  ``auditwatch_partition_stalled`` and sends a stall alert (then a resolution)
  to the alerts topic, so it is routed like any other alert;
* sets ``auditwatch_notifications_parked`` to the records held in the alerts
  dead-letter topic.

The position is the offset the group has committed, i.e. processed. Before
the group's first commit on a partition it is the log's start, where the app
begins reading (``auto_offset_reset=earliest``), not the fetch position: Faust
fetches ahead into a buffer, so an agent stuck on its first record would look
busy until the buffer filled.

Log starts and ends of partitions this worker does not consume (the parked
topic, and uncommitted partitions' starts) come from a consumer of the
monitor's own, outside any group (:class:`KafkaOffsets`): Faust's consumer
answers such queries from its fetch thread, a second or more per call while
it long-polls, which made a sample take seconds.

Table changelog partitions are left out on purpose: after recovery nothing
consumes them while the producer keeps writing, which would look like a stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP

from alerts.model import Alert
from pipeline import metrics
from pipeline.config import AuditwatchConfig
from pipeline.stall import PartitionSample, Resumed, StallDetector, resumed_alert, stall_alert

__all__ = ["KafkaOffsets", "Offsets", "PipelineMonitor", "register_monitor"]

log = logging.getLogger("auditwatch.monitor")


class Offsets(Protocol):
    """Where partitions' logs start and end."""

    async def earliest(self, tps: list[TP]) -> Mapping[TP, int]: ...

    async def latest(self, tps: list[TP]) -> Mapping[TP, int]: ...


class KafkaOffsets:
    """:class:`Offsets` from a consumer outside any group, started at the first question."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: AIOKafkaConsumer | None = None

    async def _client(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def earliest(self, tps: list[TP]) -> Mapping[TP, int]:
        found = await (await self._client()).beginning_offsets([TopicPartition(*tp) for tp in tps])
        return {TP(tp.topic, tp.partition): offset for tp, offset in found.items()}

    async def latest(self, tps: list[TP]) -> Mapping[TP, int]:
        found = await (await self._client()).end_offsets([TopicPartition(*tp) for tp in tps])
        return {TP(tp.topic, tp.partition): offset for tp, offset in found.items()}

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


class PipelineMonitor:
    """One worker's sampling of its consumer; :meth:`sample` runs on the timer.

    ``consumer`` is Faust's consumer (or anything with its ``assignment``,
    ``highwater`` and ``_committed_offset``), so tests drive it with a fake
    one, as they do ``offsets``. ``send`` publishes an alert.
    """

    def __init__(
        self,
        *,
        watched: Iterable[str],
        parked: Iterable[TP],
        stall_after: float,
        send: Callable[[Alert], Awaitable[None]],
        offsets: Offsets,
        worker: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topics = frozenset(watched)
        self.parked = list(parked)
        self.detector = StallDetector(stall_after)
        self.send = send
        self.offsets = offsets
        self.worker = worker
        self.clock = clock
        self._shown: set[tuple[str, int]] = set()

    async def sample(self, consumer: Any) -> None:
        await self.sample_partitions(consumer)
        await self.sample_parked()

    async def sample_partitions(self, consumer: Any) -> None:
        try:
            assigned = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        except Exception:  # not started, or rebalancing
            return
        now = self.clock()
        current: set[tuple[str, int]] = set()
        for tp, position in (await self._positions(consumer, assigned)).items():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue  # nothing fetched from this partition yet
            current.add((tp.topic, tp.partition))
            await self._observe(PartitionSample(tp.topic, tp.partition, position, highwater, now))
        for topic, partition in self._shown - current:  # revoked since the last sample
            self.detector.forget(topic, partition)
            for gauge in (metrics.CONSUMER_LAG, metrics.PARTITION_STALLED):
                with contextlib.suppress(KeyError):
                    gauge.remove(topic, str(partition))
        self._shown = current

    async def _positions(self, consumer: Any, assigned: list[TP]) -> dict[TP, int]:
        """The committed offsets (Faust keeps no public accessor); the log's start where none."""
        committed: Mapping[TP, int | None] = consumer._committed_offset
        positions = {tp: offset for tp in assigned if (offset := committed.get(tp)) is not None}
        missing = [tp for tp in assigned if tp not in positions]
        if missing:
            try:
                positions.update(
                    (tp, offset) for tp, offset in (await self.offsets.earliest(missing)).items()
                )
            except Exception as exc:  # the broker is away: those partitions wait for the next sample
                log.debug("could not read where %s start: %s", missing, exc)
        return positions

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

    async def sample_parked(self) -> None:
        try:
            earliest = await self.offsets.earliest(self.parked)
            latest = await self.offsets.latest(self.parked)
        except Exception as exc:  # the broker is away: try next time
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

    offsets = KafkaOffsets(config.kafka.bootstrap)
    monitor = PipelineMonitor(
        watched=watched,
        parked=[TP(parked, p) for p in range(config.kafka.partitions)],
        stall_after=config.metrics.stall_after_seconds,
        send=send,
        offsets=offsets,
        worker=f"{socket.gethostname()}/{app.conf.id}",
    )

    async def sample() -> None:
        await monitor.sample(app.consumer)

    async def close_offsets() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await offsets.close()

    app.timer(config.metrics.sample_seconds)(sample)
    app.task(close_offsets)
    return monitor
