"""Silences in Kafka: a compacted topic keyed by silence id, the latest version of each kept.

Every worker follows the topic (:func:`pipeline.router_runtime.silence_tail`),
so a silence added through any worker's HTTP API or with ``auditwatch
silence add`` mutes alerts everywhere within a tick. Expiring a silence writes
a new version ending now; the record stays, so what was silenced, by whom and
why can be listed later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from alerts.errors import AlertDecodeError
from alerts.router.silence import Silence, Silences
from pipeline.config import AuditwatchConfig
from pipeline.errors import PipelineError
from pipeline.topics import ensure_topics, pipeline_topics

__all__ = ["read_silences", "silences_topic", "write_silences"]


def silences_topic(config: AuditwatchConfig) -> str:
    return config.topics.name("silences")


async def _ensure(config: AuditwatchConfig) -> None:
    topic = silences_topic(config)
    await ensure_topics(config.kafka.bootstrap, [s for s in pipeline_topics(config) if s.name == topic])


async def write_silences(config: AuditwatchConfig, silences: Iterable[Silence]) -> None:
    """Store new or changed silences; raises :class:`PipelineError` if Kafka does not take them."""
    await _ensure(config)
    producer = AIOKafkaProducer(bootstrap_servers=config.kafka.bootstrap, acks="all")
    try:
        await producer.start()
        for silence in silences:
            await producer.send_and_wait(
                silences_topic(config), silence.to_json_bytes(), key=silence.id.encode()
            )
    except KafkaError as exc:
        raise PipelineError(f"cannot store the silence in Kafka at {config.kafka.bootstrap}: {exc}") from exc
    finally:
        await producer.stop()


async def read_silences(config: AuditwatchConfig, timeout: float = 30.0) -> Silences:
    """Every silence in the topic, as of now."""
    await _ensure(config)
    topic = silences_topic(config)
    store = Silences()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=config.kafka.bootstrap, enable_auto_commit=False, group_id=None
    )
    try:
        await consumer.start()
        deadline = time.monotonic() + timeout
        partitions = consumer.partitions_for_topic(topic)
        while partitions is None and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                await asyncio.sleep(0.2)
        if not partitions:
            return store
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if end[tp] > 0}
        while pending and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    if record.value is None:
                        store.delete((record.key or b"").decode(errors="replace"))
                        continue
                    try:
                        store.put(Silence.from_json_bytes(record.value))
                    except AlertDecodeError:
                        continue
            pending = {tp for tp in pending if await consumer.position(tp) < end[tp]}
        if pending:
            raise PipelineError(f"timed out reading {topic} from Kafka at {config.kafka.bootstrap}")
    except KafkaError as exc:
        raise PipelineError(f"cannot read silences from Kafka at {config.kafka.bootstrap}: {exc}") from exc
    finally:
        await consumer.stop()
    return store
