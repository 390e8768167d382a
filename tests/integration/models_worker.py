"""Kafka helpers for the models' restart test: feed the events topic, watch commits, read state back.

The test runs a real ``auditwatch worker``; these helpers only publish canonical
events the way ingest does (keyed by tenant/actor), read the worker's committed
offsets, and read its state table back from the changelog topic, as a restarted
worker would recover it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from detectors.events import AuditEvent
from pipeline.app import RULE_STATE_TABLE
from pipeline.ingest import partition_key

__all__ = ["changelog_topic", "committed", "partition_of", "publish_events", "read_state"]


def changelog_topic(app_id: str) -> str:
    """Faust's name for the changelog of the worker's state table."""
    return f"{app_id}-{RULE_STATE_TABLE}-changelog"


def partition_of(event: AuditEvent, partitions: int) -> int:
    """The partition the producer's default partitioner gives the event's key (as ingest publishes it)."""
    everything = list(range(partitions))
    return int(DefaultPartitioner()(partition_key(event), everything, everything))


def publish_events(bootstrap: str, topic: str, events: Iterable[AuditEvent]) -> None:
    """Publish canonical events keyed like ingest's, in order, in pipelined batches."""

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
        await producer.start()
        try:
            pending = []
            for event in events:
                value = event.model_dump_json().encode()
                pending.append(await producer.send(topic, value, key=partition_key(event)))
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
        finally:
            await producer.stop()

    asyncio.run(run())


def committed(bootstrap: str, group: str, topic: str) -> int:
    """Offsets the consumer group has committed on ``topic``, summed over its partitions."""

    async def run() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)

    return asyncio.run(run())


def read_state(bootstrap: str, topic: str) -> dict[str, Any]:
    """The table a restarted worker would recover: the last JSON value of every key, tombstones applied."""

    async def run() -> dict[str, Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            fetch_max_bytes=64 << 20,
            max_partition_fetch_bytes=16 << 20,
        )
        await consumer.start()
        state: dict[str, Any] = {}
        try:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            assert partitions, f"no changelog topic {topic}"
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        key = json.loads(record.key)
                        if record.value is None:
                            state.pop(key, None)
                        else:
                            state[key] = json.loads(record.value)
        finally:
            await consumer.stop()
        return state

    return asyncio.run(run())
