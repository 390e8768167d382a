"""The ingest agent: raw records to canonical events, or to the dead-letter topic.

Events are handed straight to the app's producer rather than through
``Topic.send``: Faust's per-message channel machinery cost more than ingest
itself. Delivery stays at-least-once, because Faust flushes the producer
before it commits the source offsets.
"""

from __future__ import annotations

from typing import Any

import faust

from pipeline.deadletter import DeadLetter
from pipeline.ingest import Accepted, partition_key
from pipeline.stages import Stages

__all__ = ["register_ingest"]

BATCH = 500
BATCH_WAIT = 0.05
"""Records are taken in batches: Faust's per-record iteration cost more than ingest.
Offsets are acknowledged after the whole batch is processed (at-least-once)."""


def register_ingest(app: faust.App, stages: Stages, *, source: Any, events: Any, dlq: Any) -> None:
    events_topic: str = events.get_topic_name()

    @app.agent(source, name="ingest")
    async def ingest(stream: Any) -> None:
        producer = app.producer
        async for batch in stream.take_events(BATCH, within=BATCH_WAIT):
            for record in batch:
                message = record.message
                outcome = stages.ingest(record.value, source_name=message.topic)
                if isinstance(outcome, Accepted):
                    for event in outcome.events:
                        await producer.send(
                            events_topic,
                            partition_key(event),
                            event.model_dump_json().encode(),
                            None,
                            None,
                            None,
                        )
                else:
                    letter = DeadLetter.of(
                        record.value,
                        outcome.reason,
                        outcome.field,
                        source_topic=message.topic,
                        partition=message.partition,
                        offset=message.offset,
                    )
                    await dlq.send(key=message.key, value=letter.to_json_bytes())
