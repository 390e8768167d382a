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

Checkpoints are written by ``checkpoint`` at the end of each batch, before its
offsets are acknowledged, and only for the partitions the batch touched. The
worker's commit flushes the changelog before it commits offsets, so a restart
resumes the models as of (at most one batch before) the committed offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from detectors.models import ModelSet

__all__ = ["PartitionModels", "scope_of"]


def scope_of(partition: int) -> str:
    """The checkpoint scope of one partition's models (``ModelSet(scope=...)``)."""
    return f"p{partition}"


class PartitionModels:
    """Builds, checkpoints and forgets one ``ModelSet`` per partition, from a template's detectors."""

    def __init__(self, template: ModelSet) -> None:
        self._specs = [runner.spec for runner in template.runners]
        self._models: dict[int, ModelSet] = {}

    def get(self, partition: int) -> ModelSet:
        """The partition's models, created on first use (they restore from state at their first event)."""
        models = self._models.get(partition)
        if models is None:
            models = ModelSet(self._specs, checkpoint_every=0, scope=scope_of(partition))
            self._models[partition] = models
        return models

    def checkpoint(self, partitions: Iterable[int], state: MutableMapping[str, Any]) -> None:
        """Write the models of ``partitions`` to ``state`` (the batch's partitions)."""
        for partition in sorted(set(partitions)):
            models = self._models.get(partition)
            if models is not None:
                models.checkpoint(state)

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop revoked partitions' models: if a partition comes back, it restores from its checkpoint.

        Another worker may have advanced it meanwhile; the in-memory copy would be stale.
        """
        for partition in partitions:
            self._models.pop(partition, None)

    @property
    def partitions(self) -> list[int]:
        return sorted(self._models)
