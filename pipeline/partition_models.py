"""The anomaly models of a worker: one ``ModelSet`` per partition of the events topic.

Why per partition: a partition is the unit Kafka moves between workers. Each
partition's shared models (river model, calibrator, feature statistics) learn
only from that partition's events, in offset order, and are checkpointed under
their own scope (``p<partition>``). A worker that takes a partition over after a
rebalance or a crash resumes exactly that partition's models from the changelog,
and a partition's scores do not depend on which other partitions the worker
happens to hold. The cost: each partition's model warms up on its share of
the events, and memory grows with the partitions a worker holds (about 350 KB
of shared model per partition; per-entity state is unchanged).

Checkpoints are written by ``checkpoint`` at the end of a batch, before its
offsets are acknowledged, for the partitions the batch touched. The worker's
commit flushes the changelog before it commits offsets, so a restarted worker
resumes the shared models as of its committed offsets, consistent with the
per-entity state (written with every event). A revoked partition is
checkpointed before it is dropped, so a rebalance loses nothing.

The cost: about 15 ms and 350 KB of changelog per partition and batch (a
batch is up to 500 events), a fifth to a third of the detect agent's time on
a backlog. ``every_events``/``every_seconds`` can space checkpoints out, but a
checkpoint older than the committed offsets is inconsistent with the
per-entity state: measured on the default detectors, resuming from models 500
events behind moved the behaviour detector's calibrated scores by 0.28 on
average (HalfSpaceTrees' reference window changes phase), so the worker keeps
the default of every batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from detectors.models import CheckpointError, ModelSet

__all__ = ["PartitionModels", "scope_of"]

log = logging.getLogger("auditwatch.models")


def scope_of(partition: int) -> str:
    """The checkpoint scope of one partition's models (``ModelSet(scope=...)``)."""
    return f"p{partition}"


class PartitionModels:
    """Builds, checkpoints and forgets one ``ModelSet`` per partition, from a template's detectors."""

    def __init__(
        self,
        template: ModelSet,
        every_events: int = 1,
        every_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._specs = [runner.spec for runner in template.runners]
        self._models: dict[int, ModelSet] = {}
        self._pending: dict[int, int] = {}
        """Events run per partition since its last checkpoint."""
        self._since: dict[int, float] = {}
        self.every_events, self.every_seconds, self._clock = every_events, every_seconds, clock

    def get(self, partition: int, state: MutableMapping[str, Any]) -> ModelSet:
        """The models for one event of ``partition``; created on first use and restored from ``state``.

        Restored here, not lazily, so a checkpoint never writes models that did not restore first.
        A checkpoint this version cannot read is logged as an error and the partition's models
        start cold (the next checkpoint replaces it): detection, rules included, goes on.
        """
        models = self._models.get(partition)
        if models is None:
            models = ModelSet(self._specs, checkpoint_every=0, scope=scope_of(partition))
            try:
                models.restore(state)
            except CheckpointError as exc:
                log.error("models of partition %d start cold: %s", partition, exc)
                models = ModelSet(self._specs, checkpoint_every=0, scope=scope_of(partition))
                models.restore({})  # nothing to restore: cold
            self._models[partition] = models
            self._since[partition] = self._clock()
        self._pending[partition] = self._pending.get(partition, 0) + 1
        return models

    def checkpoint(
        self, partitions: Iterable[int], state: MutableMapping[str, Any], *, force: bool = False
    ) -> list[int]:
        """Write the models of ``partitions`` that are due (or all, with ``force``); returns those written."""
        now, written = self._clock(), []
        for partition in sorted(set(partitions)):
            models, pending = self._models.get(partition), self._pending.get(partition, 0)
            if models is None or pending == 0:
                continue  # nothing learned since the last checkpoint
            due = pending >= self.every_events or now - self._since[partition] >= self.every_seconds
            if force or due:
                models.checkpoint(state)
                self._pending[partition], self._since[partition] = 0, now
                written.append(partition)
        return written

    def forget(self, partitions: Iterable[int], state: MutableMapping[str, Any]) -> None:
        """Checkpoint revoked partitions' models, then drop them.

        If a partition comes back it restores from the changelog: another worker
        may have advanced it meanwhile, and the in-memory copy would be stale.
        """
        partitions = list(partitions)
        try:
            self.checkpoint(partitions, state, force=True)
        finally:  # dropped even if the checkpoint fails: a stale copy must not come back
            for partition in partitions:
                self._models.pop(partition, None)
                self._pending.pop(partition, None)
                self._since.pop(partition, None)

    @property
    def partitions(self) -> list[int]:
        return sorted(self._models)
