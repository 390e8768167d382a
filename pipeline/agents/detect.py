"""The detect agent: canonical events through the rule engine to alerts.

The engine's window state is the Faust table passed in: every change is
written to its changelog, so a restarted worker continues counting. The table
places each key by the partitioner (``pipeline.app``), not by the event being
processed, so the agent can take events in batches without telling the table
which one is current (``Stream._set_current_event`` would also swap the events
Faust's take buffer holds while a batch is processed: one lost, one doubled).

The rules are reloaded when their directory changes or on SIGHUP
(``pipeline.reload``): the engine is read from ``stages`` for every event, so
a swap takes effect at the next event.

The anomaly models, when on, run one ``ModelSet`` per partition
(``pipeline.partition_models``), with their per-entity state in the same table.
At the end of each batch the models of the partitions it touched are
checkpointed into the table, before the batch's offsets are acknowledged: the
commit flushes the changelog first, so a restarted worker resumes them warm,
as of its committed offsets. A revoked partition's models are checkpointed
and dropped, and restored from the changelog if the partition comes back.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import faust
from pydantic import ValidationError

from detectors.events import AuditEvent
from pipeline import metrics
from pipeline.deadletter import DeadLetter
from pipeline.partition_models import PartitionModels
from pipeline.reload import register_reload
from pipeline.stages import Stages

__all__ = ["register_detect"]

log = logging.getLogger("auditwatch.models")

BATCH = 500
BATCH_WAIT = 0.05
"""Events are taken in batches: Faust's per-event iteration cost more than detection.
Offsets are acknowledged after the whole batch is processed (at-least-once)."""


def register_detect(
    app: faust.App, stages: Stages, *, source: Any, alerts: Any, dlq: Any, state: Any
) -> None:
    progress = metrics.LAST_EVENT_TIME
    if stages.rules_dir is not None:
        register_reload(app, stages, stages.rules_dir, alerts=alerts, redactor=stages.redactor)
    models = PartitionModels(stages.models) if stages.models is not None else None
    if models is not None:
        events_topic = source.get_topic_name()

        async def forget_models(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
            revoked = [tp.partition for tp in (args[0] if args else ()) if tp.topic == events_topic]
            try:
                models.forget(revoked, state)
            except Exception:  # the rebalance must go on; the models restore from their last checkpoint
                log.exception("models: checkpoint of revoked partitions %s failed", revoked)

        app.on_partitions_revoked.connect(cast(Any, forget_models))  # mode types the handler too narrowly

    @app.agent(source, name="detect")
    async def detect(stream: Any) -> None:
        async for batch in stream.take_events(BATCH, within=BATCH_WAIT):
            touched: set[int] = set()  # partitions whose models ran in this batch
            for record in batch:
                message = record.message
                try:
                    event = AuditEvent.model_validate_json(record.value or b"")
                except ValidationError as exc:
                    # Only another producer writing to audit.events can cause this.
                    problem = exc.errors(include_url=False)[0]["msg"]
                    letter = DeadLetter.of(
                        record.value,
                        f"not a canonical event on the events topic: {problem}",
                        source_topic=message.topic,
                        partition=message.partition,
                        offset=message.offset,
                    )
                    await dlq.send(key=message.key, value=letter.to_json_bytes())
                    continue
                partition_models = None
                if models is not None:
                    partition_models = models.get(message.partition, state)
                    touched.add(message.partition)
                for alert in stages.detect(event, state, partition_models):
                    await alerts.send(key=alert.id.encode(), value=alert.to_json_bytes())
                progress.labels(partition=str(message.partition)).set(time.time())
            if models is not None:
                models.checkpoint(touched, state)  # before this batch's offsets are acknowledged
