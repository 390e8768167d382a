"""The Faust app: one explicit factory, three thin agents.

    audit.raw --ingest--> audit.events --detect--> audit.alerts --notify--> sinks
         \\--> audit.dlq                                    \\--> audit.alerts.dlq

Each agent decodes, calls a stage from ``pipeline.stages`` or ``alerts``, and
sends. Correlation windows live in a changelog-backed table, so a restarted
worker recovers them. The app is built by ``create_app`` (never at import
time), so tests and workers each get their own.
"""

from __future__ import annotations

from typing import Any

import faust

from pipeline.agents.archive import register_archive
from pipeline.agents.detect import register_detect
from pipeline.agents.ingest import register_ingest
from pipeline.agents.monitor import register_monitor
from pipeline.agents.notify import register_notify
from pipeline.api.hosting import register_api
from pipeline.config import AuditwatchConfig
from pipeline.stages import Stages
from pipeline.topics import LARGE_RECORD_BYTES
from pipeline.tracing import install as install_tracing

__all__ = ["RULE_STATE_TABLE", "create_app"]

RULE_STATE_TABLE = "rule-state"


def create_app(config: AuditwatchConfig, stages: Stages) -> faust.App:
    """A Faust app wired to the configured topics, with every agent registered."""
    kafka = config.kafka
    kafka.state_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        kafka.app_id,
        broker=f"kafka://{kafka.bootstrap}",
        store="memory://",
        datadir=str(kafka.state_dir),
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication_factor,
        web_enabled=False,
        producer_max_request_size=LARGE_RECORD_BYTES,
        consumer_max_fetch_size=LARGE_RECORD_BYTES,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=100,
        broker_commit_interval=1.0,
        table_standby_replicas=0,
    )
    topics = config.topics

    def topic(name: str) -> Any:
        return app.topic(name, key_serializer="raw", value_serializer="raw", partitions=kafka.partitions)

    raw, events, dlq = (
        topic(topics.name("raw")),
        topic(topics.name("events")),
        topic(topics.name("dlq")),
    )
    alerts, alerts_dlq = topic(topics.name("alerts")), topic(topics.name("alerts_dlq"))
    # A correlation groups by any field (source.ip, a trail name...), not only by the
    # events' key, so its state key is written from events of several partitions: the
    # partitioner keeps each key in one changelog partition, which recovery then restores.
    state = app.Table(
        RULE_STATE_TABLE,
        default=None,
        partitions=kafka.partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        use_partitioner=True,
    )
    register_ingest(app, stages, source=raw, events=events, dlq=dlq)
    register_detect(app, stages, source=events, alerts=alerts, dlq=dlq, state=state)
    if config.archive.enabled:
        events_name, alerts_name = topics.name("events"), topics.name("alerts")
        register_archive(app, config.archive, app_id=kafka.app_id, events=events_name, alerts=alerts_name)
    register_notify(app, config, source=alerts, parked=alerts_dlq)
    register_api(app, config, stages, raw=raw)  # when api.port is set
    watched = [topics.name("raw"), topics.name("events"), topics.name("alerts")]
    if config.alerts.router is not None:
        watched.append(topics.name("alerts_routed"))
    register_monitor(app, config, alerts=alerts, watched=watched, parked=topics.name("alerts_dlq"))
    install_tracing(stages.tracing)  # the delivery side finds the worker's spans through it
    return app
