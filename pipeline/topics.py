"""Create the pipeline's Kafka topics, with the settings the pipeline relies on.

The raw and dead-letter topics accept records larger than Kafka's 1 MB default:
an oversized record must reach ingest to be dead-lettered with its bytes
rather than be refused by the broker where nobody sees it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import AuditwatchConfig
from pipeline.errors import PipelineError

__all__ = ["LARGE_RECORD_BYTES", "TopicSpec", "ensure_topics", "pipeline_topics"]

LARGE_RECORD_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


def pipeline_topics(config: AuditwatchConfig) -> list[TopicSpec]:
    """The topics a worker reads and writes, all with the configured partition count."""
    large = {"max.message.bytes": str(LARGE_RECORD_BYTES)}
    topics = config.topics
    kafka = config.kafka

    def spec(name: str, configs: dict[str, str] | None = None) -> TopicSpec:
        return TopicSpec(name, kafka.partitions, kafka.replication_factor, configs or {})

    return [
        spec(topics.name("raw"), large),
        spec(topics.name("events"), large),
        spec(topics.name("dlq"), large),
        spec(topics.name("alerts")),
        spec(topics.name("alerts_dlq"), large),
        spec(topics.name("alerts_routed")),
        spec(topics.name("silences"), {"cleanup.policy": "compact"}),
    ]


async def ensure_topics(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        await admin.start()
    except KafkaError as exc:
        raise PipelineError(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        new = [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs) for s in missing]
        with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
            await admin.create_topics(new)
        return [s.name for s in missing]
    finally:
        await admin.close()
