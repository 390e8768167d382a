"""What the archive agent does with a batch, without Kafka: append, make durable, skip redeliveries."""

from __future__ import annotations

from pipeline.archive.consumer import ArchiveConsumer
from pipeline.archive.records import Kind
from pipeline.archive.verify import verify_archive
from tests.archive.helpers import Archive, make_alert, make_event
from tests.archive.test_archive_writer import records

EVENTS, ALERTS = "t.audit.events", "t.audit.alerts"


def batch(first: int, count: int) -> list[tuple[str, bytes | None]]:
    items: list[tuple[str, bytes | None]] = [
        (EVENTS, make_event(i).model_dump_json().encode()) for i in range(first, first + count)
    ]
    items.append((ALERTS, make_alert(first).to_json_bytes()))
    return items


def test_a_batch_redelivered_after_a_crash_is_not_archived_twice(archive: Archive) -> None:
    consumer = ArchiveConsumer(archive.writer(), events_topic=EVENTS, alerts_topic=ALERTS)
    assert consumer.write(batch(0, 5)).appended == 6
    second = consumer.write(batch(5, 5))
    assert second.appended == 6
    consumer.writer.abandon()  # killed after the append, before Kafka committed the offsets

    again = ArchiveConsumer(archive.writer(), events_topic=EVENTS, alerts_topic=ALERTS)
    redelivered = again.write(batch(5, 5))
    assert (redelivered.appended, redelivered.duplicates) == (0, 6)
    again.writer.close()
    kinds = [r.kind for r in records(archive)]
    assert kinds.count(Kind.EVENT) == 10 and kinds.count(Kind.ALERT) == 2
    assert verify_archive(archive.storage, archive.keyring).ok


def test_values_that_are_not_events_or_alerts_are_counted_and_skipped(archive: Archive) -> None:
    consumer = ArchiveConsumer(archive.writer(), events_topic=EVENTS, alerts_topic=ALERTS)
    result = consumer.write([(EVENTS, b"{not json"), (ALERTS, None), ("other", b"{}"), *batch(0, 1)])
    assert (result.appended, result.not_decodable) == (2, 3)
    consumer.writer.close()
