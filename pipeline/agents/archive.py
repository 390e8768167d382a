"""The archive agent: every accepted event and every alert into the tamper-evident archive.

It reads ``audit.events`` and ``audit.alerts`` in batches, without Faust's
automatic acknowledgement: a batch is appended and fsynced by
``ArchiveConsumer.write`` first, and only then acknowledged, so a partition's
position is committed only after its records are durable. A crash before that
redelivers the batch, and the writer's idempotency on (origin.system,
event_id) and on alert ids keeps the redelivery out of the log.

A timer writes the checkpoints that are due by time (also when nothing
arrives) and seals old segments. The writer is opened when the agent starts
(it reads the archive back and records the restart) and closed when it
stops (stop record, last checkpoint). When the archive cannot be written or
extended (a damaged archive, another writer on the directory, a full disk),
nothing is acknowledged and the worker stops with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import Counter, Gauge

from pipeline.archive.config import ArchiveConfig
from pipeline.archive.consumer import ArchiveConsumer
from pipeline.archive.errors import ArchiveError
from pipeline.archive.keys import Signer, load_signer
from pipeline.archive.writer import ArchiveWriter, WriterSettings
from pipeline.metrics import ARCHIVE_BYTES, ARCHIVE_RECORDS_HELD, directory_bytes

__all__ = ["register_archive"]

log = logging.getLogger(__name__)

ARCHIVE_RECORDS = Counter(
    "auditwatch_archive_offered_total", "Records offered to the archive, by outcome", ["outcome"]
)
ARCHIVE_SIZE = Gauge("auditwatch_archive_signed_size", "Records covered by the latest signed checkpoint")
ARCHIVE_CHECKPOINT_TIME = Gauge(
    "auditwatch_archive_last_checkpoint_timestamp_seconds", "Wall-clock time of the latest checkpoint"
)


class _Runtime:
    """The writer shared by the agent and its timer (one event loop, so no lock is needed)."""

    def __init__(self, config: ArchiveConfig, signer: Signer, settings: WriterSettings) -> None:
        self.config = config
        self.signer = signer
        self.settings = settings
        self.writer: ArchiveWriter | None = None

    def open(self) -> ArchiveWriter:
        self.writer = ArchiveWriter.open(self.config.storage(), self.signer, self.settings)
        self.observe()
        return self.writer

    def observe(self) -> None:
        if self.writer is not None:
            ARCHIVE_RECORDS_HELD.set(self.writer.size)
        checkpoint = self.writer.last_checkpoint if self.writer is not None else None
        if checkpoint is not None:
            ARCHIVE_SIZE.set(checkpoint.size)
            ARCHIVE_CHECKPOINT_TIME.set_to_current_time()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def abandon(self) -> None:
        if self.writer is not None:
            self.writer.abandon()
            self.writer = None


def register_archive(app: faust.App, config: ArchiveConfig, *, app_id: str, events: str, alerts: str) -> None:
    """Add the archive agent and its timer. The key is loaded now: without one the worker does not start."""
    runtime = _Runtime(config, load_signer(config.signing_key_file), config.writer_settings(app_id))
    source = app.topic(events, alerts, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="archive", concurrency=1)
    async def archive(stream: Any) -> None:
        try:
            consumer = ArchiveConsumer(runtime.open(), events_topic=events, alerts_topic=alerts)
            async for batch in stream.noack_take(config.batch_max, within=config.batch_within):
                result = consumer.write([(event.message.topic, event.value) for event in batch])
                ARCHIVE_RECORDS.labels(outcome="appended").inc(result.appended)
                ARCHIVE_RECORDS.labels(outcome="duplicate").inc(result.duplicates)
                ARCHIVE_RECORDS.labels(outcome="not_decodable").inc(result.not_decodable)
                if result.duplicates:
                    log.info("archive: %d redelivered record(s) already archived, skipped", result.duplicates)
                runtime.observe()
                for event in batch:  # durable now: let Faust commit these offsets
                    await stream.ack(event)
        except ArchiveError as exc:
            # A damaged archive, a second writer, a full disk: nothing is acknowledged, and the
            # worker stops rather than run on without its archive.
            log.critical("archive: %s; stopping the worker", exc)
            runtime.abandon()
            await app.crash(exc)
        finally:
            runtime.close()

    timer_interval = max(0.5, min(config.checkpoint_interval, config.segment_max_age) / 4)

    @app.timer(interval=timer_interval)  # type: ignore[untyped-decorator]  # faust types timer() loosely
    async def archive_timer() -> None:
        if runtime.writer is not None:
            runtime.writer.tick()
            runtime.observe()
            ARCHIVE_BYTES.set(directory_bytes(config.dir))  # on the timer: a walk per batch would cost
