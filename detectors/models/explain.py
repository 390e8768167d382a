"""Explanations: which features drove an anomaly, and how far from normal they were.

``FeatureStats`` keeps a decayed mean and deviation of every feature over the
points the model learned (the normal), so a flagged point can be explained by
its features' standardised distance from that normal, in words an on-call
engineer can act on.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FeatureStats", "describe"]

_CONTEXT = frozenset({"hour_sin", "hour_cos", "dow_sin", "dow_cos"})
_WORDS = {
    "new_ip": "first seen source IP {} for this actor",
    "new_network": "first activity from network {} for this actor",
    "new_country": "first activity from country {} for this actor",
    "new_user_agent": "first use of user agent {!r} by this actor",
    "new_resource": "first access to resource {!r} by this actor",
    "new_action": "first use of action {!r} by this actor",
}


class FeatureStats:
    """Decayed per-feature mean and variance; O(number of features) memory."""

    def __init__(self, span: int = 5000) -> None:
        self.span = span
        self.count = 0
        self.mean: dict[str, float] = {}
        self.var: dict[str, float] = {}

    def learn(self, x: dict[str, float]) -> None:
        self.count += 1
        alpha = 1.0 / min(self.count, self.span)
        for name, value in x.items():
            mean = self.mean.get(name, 0.0)
            delta = value - mean
            self.mean[name] = mean + alpha * delta
            self.var[name] = (1.0 - alpha) * (self.var.get(name, 0.0) + alpha * delta * delta)

    def drivers(self, x: dict[str, float], top: int = 3) -> list[tuple[str, float]]:
        """The features furthest above their normal, as (name, standard deviations)."""
        ranked = []
        for name, value in x.items():
            if name in _CONTEXT:
                continue
            std = math.sqrt(self.var.get(name, 0.0)) or 0.05
            distance = (value - self.mean.get(name, 0.0)) / max(std, 0.05)
            if distance > 1.0:
                ranked.append((name, distance))
        ranked.sort(key=lambda item: -item[1])
        return ranked[:top]

    def to_json(self) -> dict[str, Any]:
        return {"span": self.span, "count": self.count, "mean": self.mean, "var": self.var}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureStats:
        stats = cls(int(data["span"]))
        stats.count, stats.mean, stats.var = int(data["count"]), dict(data["mean"]), dict(data["var"])
        return stats


def describe(drivers: list[tuple[str, float]], facts: dict[str, str]) -> list[str]:
    """One sentence per driving feature, quoting the entity's own facts."""
    sentences = []
    for name, distance in drivers:
        if name in _WORDS and name in facts:
            sentences.append(_WORDS[name].format(facts[name]))
        elif name in facts:
            sentences.append(facts[name])
        else:
            sentences.append(f"{name.replace('_', ' ')} {distance:.1f} standard deviations above normal")
    return sentences
