"""``auditwatch alerts redeliver``: send parked notifications again, once the receiver is back.

Reads ``audit.alerts.dlq`` as the consumer group ``<app_id>-redeliver``, from
where the last run stopped up to the end as of now, and sends each parked
notification through the integration (or sink) it names, with that
integration's retries. What is delivered is done; what fails again is parked
again, at the end of the topic, with the new reason, so the next run retries
it. Nothing is dropped. A notification keeps its id, so a receiver that got it
before can drop the copy. Other dead letters (bytes that were never an alert)
are counted and left where they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from rich.console import Console

from alerts.delivery import Dispatcher, Outcome, Park, ParkedNotification
from alerts.errors import AlertDecodeError
from alerts.integrations.build import Integrations
from alerts.integrations.delivery import ParkedGroupNotification
from pipeline.config import AuditwatchConfig
from pipeline.errors import PipelineError
from pipeline.notify import build_dispatcher, build_router_integrations
from pipeline.routerconfig import load_router

__all__ = ["RedeliverStats", "redeliver"]


@dataclass
class RedeliverStats:
    delivered: int = 0
    parked_again: int = 0
    not_notifications: int = 0
    unknown_target: int = 0
    lines: list[str] = field(default_factory=list)


async def redeliver(
    config: AuditwatchConfig, *, dry_run: bool = False, console: Console | None = None
) -> RedeliverStats:
    topic = config.topics.name("alerts_dlq")
    bootstrap = config.kafka.bootstrap
    stats = RedeliverStats()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"{config.kafka.app_id}-redeliver",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=16 * 1024 * 1024)
    try:
        await consumer.start()
        await producer.start()
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return stats
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)

        async def park_again_group(item: ParkedGroupNotification) -> None:
            await producer.send_and_wait(topic, item.to_json_bytes(), key=item.id.encode())

        async def park_again_alert(item: ParkedNotification) -> None:
            await producer.send_and_wait(topic, item.to_json_bytes(), key=item.alert.id.encode())

        async with httpx.AsyncClient(timeout=30.0) as client:
            integrations: Integrations | None = None
            if config.alerts.router is not None:
                spec = load_router(config.alerts.router)
                integrations = build_router_integrations(
                    spec, client, park_again_group, base_dir=config.alerts.router.parent, console=console
                )
            dispatcher = build_dispatcher(config.alerts, client, park_again_alert, console=console)
            done: dict[TopicPartition, int] = {}
            for tp in tps:
                while await consumer.position(tp) < end[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=1000)
                    for record in batch.get(tp, []):
                        if record.offset >= end[tp]:
                            break
                        await _one(record.value, integrations, dispatcher, park_again_alert, stats, dry_run)
                        done[tp] = record.offset + 1
            if done and not dry_run:
                await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in done.items()})
    except KafkaError as exc:
        raise PipelineError(f"cannot redeliver from {topic} at {bootstrap}: {exc}") from exc
    finally:
        await consumer.stop()
        await producer.stop()
    return stats


async def _one(
    value: bytes | None,
    integrations: Integrations | None,
    dispatcher: Dispatcher,
    park: Park,
    stats: RedeliverStats,
    dry_run: bool,
) -> None:
    try:
        document = json.loads(value or b"")
    except ValueError:
        stats.not_notifications += 1
        return
    if isinstance(document, dict) and document.get("kind") == "notification":
        parked = ParkedGroupNotification.model_validate(document)
        sender = integrations.senders.get(parked.integration) if integrations is not None else None
        if sender is None:
            stats.unknown_target += 1
            stats.lines.append(
                f"{parked.id}: integration {parked.integration!r} is not configured; left parked"
            )
            return
        if dry_run:
            stats.lines.append(f"{parked.id}: would send to {parked.integration} ({parked.reason})")
            return
        outcome = await sender.send(parked.notification())
        if outcome.delivered:
            stats.delivered += 1
            stats.lines.append(f"{parked.id}: delivered to {parked.integration}")
        else:
            stats.parked_again += 1
            stats.lines.append(f"{parked.id}: parked again: {outcome.detail}")
        return
    try:
        legacy = ParkedNotification.from_json_bytes(value or b"")
    except AlertDecodeError:
        stats.not_notifications += 1
        return
    sinks = [sink for sink in dispatcher.sinks if sink.name == legacy.sink]
    if not sinks:
        stats.unknown_target += 1
        stats.lines.append(f"alert {legacy.alert.id}: sink {legacy.sink!r} is not configured; left parked")
        return
    if dry_run:
        stats.lines.append(f"alert {legacy.alert.id}: would send to {legacy.sink} ({legacy.reason})")
        return
    single = Dispatcher(sinks, dispatcher.policy, park)
    (report,) = [r for r in await single.dispatch(legacy.alert) if r.sink == legacy.sink]
    if report.outcome is Outcome.DELIVERED:
        stats.delivered += 1
        stats.lines.append(f"alert {legacy.alert.id}: delivered to {legacy.sink}")
    else:
        stats.parked_again += 1
        stats.lines.append(f"alert {legacy.alert.id}: parked again: {report.detail}")
