"""``auditwatch produce``: publish records from files to the raw topic, unchanged.

Records are sent as the bytes they are, so ingest on the worker sees exactly
what a real producer would send, bad records included.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pipeline.errors import PipelineError
from pipeline.topics import LARGE_RECORD_BYTES

__all__ = ["produce_records"]


async def produce_records(bootstrap: str, topic: str, records: Iterable[bytes]) -> int:
    """Send every record to ``topic`` and wait until Kafka has them; returns the count."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        max_request_size=LARGE_RECORD_BYTES,
        linger_ms=5,
        acks="all",
        enable_idempotence=True,
    )
    try:
        await producer.start()
    except KafkaError as exc:
        raise PipelineError(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    sent = 0
    try:
        pending = []
        for record in records:
            pending.append(await producer.send(topic, record))
            sent += 1
            if len(pending) >= 1000:
                for future in pending:
                    await future
                pending.clear()
        for future in pending:
            await future
    finally:
        await producer.stop()
    return sent
