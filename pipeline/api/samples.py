"""Read current values out of the Prometheus registry, for the JSON endpoints.

The worker's counters and gauges (``pipeline.metrics``) are the one record of
what it has done; the rules, trends and health endpoints read them here rather
than keep a second set of counts that could disagree with ``/metrics``. A
metric that is not registered (yet) reads as empty, not as an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import REGISTRY, CollectorRegistry

__all__ = ["by_label", "labelled", "total"]


def labelled(name: str, registry: CollectorRegistry = REGISTRY) -> list[tuple[Mapping[str, str], float]]:
    """Every sample of metric ``name`` (a counter's ``_total``, a gauge) with its labels."""
    found: list[tuple[Mapping[str, str], float]] = []
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == name:
                found.append((sample.labels, float(sample.value)))
    return found


def by_label(name: str, label: str, registry: CollectorRegistry = REGISTRY) -> dict[str, float]:
    """Metric ``name`` summed per value of one label."""
    totals: dict[str, float] = {}
    for labels, value in labelled(name, registry):
        key = labels.get(label)
        if key is not None:
            totals[key] = totals.get(key, 0.0) + value
    return totals


def total(name: str, registry: CollectorRegistry = REGISTRY) -> float:
    """Metric ``name`` summed over all its labels (0 when absent)."""
    return sum(value for _, value in labelled(name, registry))
