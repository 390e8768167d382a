"""Score one series in streaming order: the standalone face of the rate detector.

``SeriesScorer`` is the rate detector plus calibration with AnomalyFilter
semantics: a point whose calibrated score reaches ``threshold`` is not learned
by the calibrator, so an anomaly never becomes the new normal of the scores.
The score of a point uses only the points before it and the point itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from detectors.models.calibration import TailCalibrator
from detectors.models.rate import RateDetector

__all__ = ["SeriesScorer", "score_series"]


class SeriesScorer:
    """Calibrated anomaly scores in [0, 1] for a stream of values.

    >>> scores = list(score_series([10.0] * 50 + [100.0] + [10.0] * 5, min_count=20))
    >>> max(scores[:50]) < 0.99 < scores[50]
    True
    """

    def __init__(
        self,
        detector: RateDetector | None = None,
        threshold: float = 0.999,
        min_count: int = 50,
    ) -> None:
        self.detector = detector if detector is not None else RateDetector()
        self.calibrator = TailCalibrator(span=1000, min_count=min_count)
        self.threshold = threshold

    def score(self, value: float) -> float:
        x = {"value": value}
        raw = self.detector.score_one(x)
        calibrated = self.calibrator.score(raw)
        if self.detector._n >= self.detector.warm_up and calibrated < self.threshold:
            self.calibrator.learn(raw)
        self.detector.learn_one(x)
        return calibrated


def score_series(
    values: Iterable[float], threshold: float = 0.999, min_count: int = 50, period: int = 0
) -> Iterator[float]:
    """Calibrated scores of ``values``, one per value, in order."""
    scorer = SeriesScorer(RateDetector(period=period), threshold=threshold, min_count=min_count)
    for value in values:
        yield scorer.score(value)
