"""The router's moving parts around the pure core: topic tails, delivery tasks, metrics.

* :class:`TopicTail` reads a topic into memory and keeps following it, outside
  any consumer group, so that every worker sees all of it: the compacted
  silences topic (from the start) and the alerts topic (from
  ``resolve_timeout`` ago, for the inhibitor's index of firing alerts). It says
  when it has caught up with the end it saw at start; the router does not flush
  before, so a restarted worker cannot notify what a silence mutes.
* :class:`Deliverer` runs each :class:`~alerts.router.dispatch.DeliveryJob` in
  its own task, so a slow receiver delays nothing but its own notifications,
  and reports each result back through Kafka. A job stays *in flight* until its
  result has been recorded, so the next tick does not hand it out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from alerts.errors import AlertDecodeError, ParkError
from alerts.integrations.delivery import IntegrationSender
from alerts.model import Alert
from alerts.notification import routing_labels
from alerts.router.dispatch import DeliveryJob, job_key
from alerts.router.inhibit import ActiveAlerts
from alerts.router.messages import DeliveryResult
from alerts.router.silence import Silence, Silences
from pipeline.tracing import delivering

__all__ = ["Deliverer", "TopicTail", "alert_mirror", "silence_tail"]

log = logging.getLogger("auditwatch.router")

Apply = Callable[[Any], None]


class TopicTail:
    """Every record of ``topic`` (or those since ``since``), then each new one, into ``apply``."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        apply: Apply,
        *,
        since: Callable[[], datetime] | None = None,
        poll_ms: int = 200,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.apply = apply
        self.since = since
        self.poll_ms = poll_ms
        self.ready = asyncio.Event()

    async def run(self) -> None:
        """Follow the topic until cancelled, reconnecting after Kafka errors."""
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                log.warning("tail of %s failed (%s); retrying", self.topic, exc)
                await asyncio.sleep(1.0)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        try:
            partitions = consumer.partitions_for_topic(self.topic)
            while partitions is None:
                await consumer._client.force_metadata_update()
                partitions = consumer.partitions_for_topic(self.topic)
                if partitions is None:
                    await asyncio.sleep(0.5)
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await self._seek(consumer, tps)
            end = await consumer.end_offsets(tps)
            while True:
                batch = await consumer.getmany(timeout_ms=self.poll_ms)
                for records in batch.values():
                    for record in records:
                        self.apply(record)
                if not self.ready.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(position >= end[tp] for position, tp in zip(positions, tps, strict=True)):
                        self.ready.set()
        finally:
            await consumer.stop()

    async def _seek(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Start at ``since``, missing nothing written while the tail starts.

        The end offsets are read *before* looking up ``since``: where no record
        is as recent as ``since``, nothing was written after that first read
        either (a new record is recent), so that end is the place to start.
        Looking the end up afterwards (``seek_to_end``) would skip a record
        written in between, such as a worker's first alerts on a busy machine.
        """
        if self.since is None:
            await consumer.seek_to_beginning(*tps)
            return
        stamp = int(self.since().timestamp() * 1000)
        ends = await consumer.end_offsets(tps)
        found = await consumer.offsets_for_times(dict.fromkeys(tps, stamp))
        for tp in tps:
            position = found.get(tp)
            consumer.seek(tp, ends[tp] if position is None else position.offset)


def silence_tail(bootstrap: str, topic: str, silences: Silences) -> TopicTail:
    """Keep ``silences`` equal to the compacted silences topic."""

    def apply(record: Any) -> None:
        if record.value is None:
            if record.key is not None:
                silences.delete(record.key.decode(errors="replace"))
            return
        try:
            silences.put(Silence.from_json_bytes(record.value))
        except AlertDecodeError as exc:
            log.warning("ignoring a record of %s that is not a silence: %s", topic, exc)

    return TopicTail(bootstrap, topic, apply)


def alert_mirror(bootstrap: str, topic: str, active: ActiveAlerts, resolve_timeout: float) -> TopicTail:
    """Index the alerts raised in the last ``resolve_timeout`` for the inhibitor."""
    window = timedelta(seconds=resolve_timeout)

    def apply(record: Any) -> None:
        try:
            alert = Alert.from_json_bytes(record.value or b"")
        except AlertDecodeError:
            return  # the notify stage dead-letters it
        raised = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        active.add(alert.id, routing_labels(alert), raised + window)

    return TopicTail(bootstrap, topic, apply, since=lambda: datetime.now(UTC) - window)


Report = Callable[[DeliveryResult], Awaitable[None]]


class Deliverer:
    """Runs delivery jobs as tasks; see the module docstring."""

    def __init__(
        self,
        senders: Mapping[str, IntegrationSender],
        report: Report,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.senders = senders
        self.report = report
        self.clock = clock
        self.in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, job: DeliveryJob) -> bool:
        """Start delivering ``job`` unless it is already in flight."""
        if job.key in self.in_flight:
            return False
        self.in_flight.add(job.key)
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"deliver {job.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def acknowledge(self, result: DeliveryResult) -> None:
        """The result was recorded: the job is no longer in flight."""
        self.in_flight.discard(job_key(result.group_id, result.integration, result.notification_id))

    async def _run(self, job: DeliveryJob) -> None:
        notification = job.notification
        sender = self.senders.get(job.integration)
        try:
            outcome: Literal["delivered", "parked", "skipped"]
            if sender is None:
                outcome, detail = "skipped", f"integration {job.integration!r} is not configured (any more)"
                log.warning("notification %s: %s; recorded as skipped", notification.id, detail)
            else:
                traced = next((s.alert for s in notification.alerts if s.alert.trace_id), None)
                with delivering(
                    traced.trace_id if traced else None,
                    traced.span_id if traced else None,
                    **{
                        "auditwatch.integration": job.integration,
                        "auditwatch.notification_id": notification.id,
                    },
                ):
                    sent = await sender.send(notification)
                outcome, detail = ("delivered" if sent.delivered else "parked"), sent.detail
            await self.report(
                DeliveryResult(
                    group_id=notification.group_id,
                    integration=job.integration,
                    notification_id=notification.id,
                    outcome=outcome,
                    at=self.clock(),
                    detail=detail,
                )
            )
        except ParkError as exc:
            log.error("%s; it stays pending and is tried again", exc)
            self.in_flight.discard(job.key)
        except asyncio.CancelledError:
            self.in_flight.discard(job.key)
            raise
        except Exception:
            log.exception("delivering notification %s failed; it stays pending", notification.id)
            self.in_flight.discard(job.key)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
