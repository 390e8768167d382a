"""``check_detector``: the contract every detector passes, like river's ``checks``.

1. **contract**: ``learn_one`` returns None; ``score_one`` returns a finite float and
   does not change the model (scoring twice gives the same score);
2. **clone**: ``clone()`` gives an unfitted detector with the same parameters, which
   scores a stream exactly as a fresh detector does;
3. **pickle**: a detector pickled mid-stream and restored scores the rest of the
   stream exactly as the original does (the checkpoint guarantee);
4. **bounded memory**: the pickled size after 3n points is within ``growth`` of the
   size after n points;
5. **prequential**: scoring each point before learning it, over a stream with
   labelled anomalies, the ROC AUC is at least ``min_auc`` (river asks >= 0.5).

The stream is synthetic and seeded: feature dicts in [0, 1] for a detector whose
``input_kind`` is ``"features"`` (the default), ``{"value": v}`` counts for
``"series"``.
"""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Iterator
from typing import Any

from sklearn.metrics import roc_auc_score

from detectors.models.errors import ConformanceError

__all__ = ["check_detector", "synthetic_stream"]

Point = tuple[dict[str, float], bool]


def synthetic_stream(kind: str, n: int, seed: int = 7) -> list[Point]:
    """n seeded points, about 2% labelled anomalous (after the first quarter)."""
    rng = random.Random(seed)
    points: list[Point] = []
    for i in range(n):
        anomalous = i > n // 4 and rng.random() < 0.02
        if kind == "series":
            level = 20.0 + 5.0 * math.sin(2 * math.pi * i / 48)
            value = level + rng.gauss(0, 1.5) + (rng.choice((-1, 1)) * 25.0 if anomalous else 0.0)
            points.append(({"value": max(0.0, value)}, anomalous))
        else:
            x = {f"f{j}": min(1.0, max(0.0, rng.gauss(0.3, 0.05))) for j in range(6)}
            if anomalous:
                for j in rng.sample(range(6), 3):
                    x[f"f{j}"] = rng.uniform(0.85, 1.0)
            points.append((x, anomalous))
    return points


def _scores(detector: Any, points: list[Point]) -> Iterator[float]:
    for x, _ in points:
        yield detector.score_one(x)
        detector.learn_one(x)


def check_detector(detector: Any, n: int = 2000, min_auc: float = 0.6, growth: float = 1.25) -> None:
    """Run every check on a fresh ``detector``; raises ``ConformanceError`` naming the first failure."""
    name = type(detector).__name__
    kind = getattr(detector, "input_kind", "features")
    stream = synthetic_stream(kind, n)

    def fail(what: str) -> ConformanceError:
        return ConformanceError(f"{name}: {what}")

    # 1. contract
    probe = detector.clone()
    for x, _ in stream[: n // 4]:
        if probe.learn_one(x) is not None:
            raise fail("learn_one must return None")
    x = stream[n // 4][0]
    first, second = probe.score_one(x), probe.score_one(x)
    if not isinstance(first, float) or not math.isfinite(first):
        raise fail(f"score_one must return a finite float, got {first!r}")
    if first != second:
        raise fail("score_one changed the model: the same point scored twice gave two scores")

    # 2. clone
    clone = detector.clone()
    if clone._get_params() != detector._get_params():
        raise fail("clone() changed the parameters")
    a = list(_scores(clone, stream[:300]))
    b = list(_scores(detector.clone(), stream[:300]))
    if a != b:
        raise fail("two clones scored the same stream differently: hidden state or unseeded randomness")

    # 3. pickle mid-stream
    original = detector.clone()
    list(_scores(original, stream[: n // 2]))
    restored = pickle.loads(pickle.dumps(original))
    if list(_scores(original, stream[n // 2 :])) != list(_scores(restored, stream[n // 2 :])):
        raise fail("a pickled and restored detector scores differently from the original")

    # 4. bounded memory
    grown = detector.clone()
    list(_scores(grown, stream[: n // 3]))
    small = len(pickle.dumps(grown))
    list(_scores(grown, stream[n // 3 :]))
    list(_scores(grown, stream[: n // 3]))
    large = len(pickle.dumps(grown))
    if large > small * growth:
        raise fail(
            f"memory grows with the stream: {small} bytes after {n // 3} points, {large} after {n + n // 3}"
        )

    # 5. prequential
    fresh = detector.clone()
    labels, scores = [], []
    for (x, anomalous), score in zip(stream, _scores(fresh, stream), strict=True):
        del x
        labels.append(anomalous)
        scores.append(score)
    start = n // 4
    auc = float(roc_auc_score(labels[start:], scores[start:]))
    if auc < min_auc:
        raise fail(f"prequential ROC AUC {auc:.3f} is below {min_auc}")
