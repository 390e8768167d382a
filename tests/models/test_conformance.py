from __future__ import annotations

import pickle
from typing import Any

import pytest
from river.base import AnomalyDetector

from detectors.models import BehaviourDetector, ConformanceError, RateDetector, check_detector


@pytest.mark.parametrize(
    "detector",
    [
        BehaviourDetector("half_space_trees", window_size=100, seed=3),
        BehaviourDetector("one_class_svm"),
        RateDetector(),
        RateDetector(period=48),
    ],
    ids=["half_space_trees", "one_class_svm", "rate", "rate_seasonal"],
)
def test_every_detector_passes_the_conformance_check(detector: Any) -> None:
    check_detector(detector, n=1200)


class Hoarder(AnomalyDetector):
    """Keeps every point: the check must refuse it."""

    def __init__(self) -> None:
        self.points: list[dict[str, float]] = []

    def learn_one(self, x: dict[Any, Any]) -> None:
        self.points.append(dict(x))

    def score_one(self, x: dict[Any, Any]) -> float:
        return float(len(self.points) % 3)


def test_unbounded_memory_is_refused() -> None:
    with pytest.raises(ConformanceError, match="memory grows"):
        check_detector(Hoarder(), n=600)


class Blind(AnomalyDetector):
    def learn_one(self, x: dict[Any, Any]) -> None:
        return None

    def score_one(self, x: dict[Any, Any]) -> float:
        return float(-sum(x.values()))


def test_a_detector_that_ranks_anomalies_low_is_refused() -> None:
    with pytest.raises(ConformanceError, match="prequential ROC AUC"):
        check_detector(Blind(), n=600)


def test_a_restored_checkpoint_scores_like_the_original() -> None:
    det = BehaviourDetector(window_size=50, seed=1)
    for i in range(200):
        det.learn_one({"a": (i % 7) / 7, "b": 0.1})
    copy = pickle.loads(pickle.dumps(det))
    assert copy.score_one({"a": 0.9, "b": 0.9}) == det.score_one({"a": 0.9, "b": 0.9})
