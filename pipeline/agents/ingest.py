"""The ingest agent: raw records to canonical events, or to the dead-letter topic."""

from __future__ import annotations

from typing import Any

import faust

from pipeline.deadletter import DeadLetter
from pipeline.ingest import Accepted, partition_key
from pipeline.stages import Stages

__all__ = ["register_ingest"]


def register_ingest(app: faust.App, stages: Stages, *, source: Any, events: Any, dlq: Any) -> None:
    @app.agent(source, name="ingest")
    async def ingest(stream: Any) -> None:
        async for record in stream.events():
            message = record.message
            outcome = stages.ingest(record.value, source_name=message.topic)
            if isinstance(outcome, Accepted):
                for event in outcome.events:
                    await events.send(key=partition_key(event), value=event.model_dump_json().encode())
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
