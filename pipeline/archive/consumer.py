"""From topic records to the archive: decode, append, make durable. No Kafka in here.

``ArchiveConsumer.write`` takes a batch of ``(topic, value)`` pairs as the
archive agent reads them from ``audit.events`` and ``audit.alerts``, appends
each accepted event and each alert, and returns only after ``commit()``, so
the caller may acknowledge (and Kafka commit) the whole batch afterwards. A
value that is not an event or an alert (another producer on the topic) is
counted and skipped: the detect and notify agents dead-letter it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from alerts.errors import AlertDecodeError
from alerts.model import Alert
from detectors.events import AuditEvent
from pipeline.archive.writer import ArchiveWriter

__all__ = ["ArchiveConsumer", "BatchResult"]


@dataclass(frozen=True)
class BatchResult:
    appended: int = 0
    duplicates: int = 0
    not_decodable: int = 0


class ArchiveConsumer:
    def __init__(self, writer: ArchiveWriter, *, events_topic: str, alerts_topic: str) -> None:
        self.writer = writer
        self.events_topic = events_topic
        self.alerts_topic = alerts_topic

    def write(self, batch: list[tuple[str, bytes | None]]) -> BatchResult:
        appended = duplicates = bad = 0
        for topic, value in batch:
            try:
                if topic == self.events_topic:
                    seq = self.writer.append_event(AuditEvent.model_validate_json(value or b""))
                elif topic == self.alerts_topic:
                    seq = self.writer.append_alert(Alert.from_json_bytes(value or b""))
                else:
                    raise ValueError(topic)
            except (ValidationError, AlertDecodeError, ValueError):
                bad += 1
                continue
            if seq is None:
                duplicates += 1
            else:
                appended += 1
        self.writer.commit()
        return BatchResult(appended, duplicates, bad)
