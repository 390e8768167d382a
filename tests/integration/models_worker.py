"""A minimal detect loop for the models' restart test: events topic in, scores file out.

It stands in for the worker's detect agent, with the same contract: the models'
state is a ``MutableMapping`` whose every write goes to a compacted changelog
topic (as a Faust table's does), and offsets are committed only after the
changelog writes of a batch are flushed. On start it rebuilds the state from the
changelog, so ``ModelSet`` resumes from its last checkpoint, written just before
each commit: the shared models are then exactly as of the committed offsets.

    python -m tests.integration.models_worker BOOTSTRAP EVENTS CHANGELOG GROUP SCORES [--die-after N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from detectors.events import AuditEvent
from detectors.models import ModelSet

DETECTORS = Path(__file__).resolve().parents[2] / "config" / "detectors"


class ChangelogState(MutableMapping[str, Any]):
    """A dict whose writes are also sent to a compacted topic (key: state key, value: JSON)."""

    def __init__(self, data: dict[str, Any], producer: AIOKafkaProducer, topic: str) -> None:
        self.data, self.producer, self.topic = data, producer, topic
        self.pending: list[asyncio.Future[Any]] = []

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"))
        self.data[key] = json.loads(text)  # what a restarted reader gets back
        self.pending.append(
            asyncio.ensure_future(self.producer.send(self.topic, text.encode(), key=key.encode()))
        )

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.pending.append(asyncio.ensure_future(self.producer.send(self.topic, None, key=key.encode())))

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    async def flush(self) -> None:
        sent = await asyncio.gather(*self.pending)
        await asyncio.gather(*sent)
        self.pending.clear()


async def rebuild(bootstrap: str, topic: str) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=64 << 20,
        max_partition_fetch_bytes=16 << 20,
    )
    await consumer.start()
    state: dict[str, Any] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or {0}]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    key = record.key.decode()
                    if record.value is None:
                        state.pop(key, None)
                    else:
                        state[key] = json.loads(record.value)
    finally:
        await consumer.stop()
    return state


async def main(args: argparse.Namespace) -> None:
    state = await rebuild(args.bootstrap, args.changelog)
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap, acks="all", max_request_size=8 << 20, linger_ms=20
    )
    consumer = AIOKafkaConsumer(
        args.events,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    store = ChangelogState(state, producer, args.changelog)
    models = ModelSet.from_paths([DETECTORS], checkpoint_every=args.checkpoint_every)
    processed, idle = 0, 0
    try:
        with open(args.scores, "a", encoding="utf-8") as out:
            while idle < 10:
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                if not batch:
                    idle += 1
                    continue
                idle = 0
                for records in batch.values():
                    for record in records:
                        event = AuditEvent.model_validate_json(record.value)
                        result = models.run(event, store)
                        out.write(json.dumps({"id": event.event_id, "scores": result.scores}) + "\n")
                        processed += 1
                        if processed == args.die_after:
                            out.flush()
                            os.kill(os.getpid(), signal.SIGKILL)
                if args.checkpoint_every == 0:
                    models.checkpoint(store)  # the shared models as of the offsets about to be committed
                await store.flush()
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "events", "changelog", "group", "scores"):
        parser.add_argument(name)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=0, help="0: checkpoint at every commit")
    asyncio.run(main(parser.parse_args()))
