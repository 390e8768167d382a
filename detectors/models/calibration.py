"""Calibration: any detector's raw score in, one comparable score in [0, 1] out.

A raw score means nothing on its own: HalfSpaceTrees scores mass, a one-class
SVM a margin, the rate detector a residual. ``TailCalibrator`` turns each into
the same thing, in the spirit of Numenta's anomaly likelihood: an estimate of
the probability that a raw score from the recent normal distribution of this
detector's scores is *below* the one seen. A calibrated score of 0.9999 means
"a score this high happens about once in 10,000 normal points", for every
detector, so one threshold means the same everywhere.

How: the body of the distribution is a decayed Gaussian fit; the tail, above
the running 90th percentile ``q``, is a peaks-over-threshold exponential fit
(the mean excess over ``q``), which extrapolates to probabilities smaller than
one over the number of points seen. Memory is O(1): six floats.

The calibrator is fed only with points that were not flagged (river's
AnomalyFilter semantics), so an attack does not teach it that attacks are
normal. Until ``min_count`` scores have been seen the calibrated score is 0
(cold start).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["TailCalibrator", "normal_cdf"]

_BODY = 0.9


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class TailCalibrator:
    """Raw score -> estimated P(normal raw score < this one).

    >>> import random
    >>> rng, cal = random.Random(1), TailCalibrator(min_count=100)
    >>> for _ in range(5000):
    ...     cal.learn(abs(rng.gauss(0, 1)))
    >>> 0.3 < cal.score(0.5) < 0.6, cal.score(2.0) < 0.99, cal.score(6.0) > 0.9999
    (True, True, True)
    """

    __slots__ = ("count", "excess", "floor", "mean", "min_count", "q", "span", "var")

    def __init__(self, span: int = 5000, min_count: int = 100, floor: float = 1e-6) -> None:
        self.span = span
        self.min_count = min_count
        self.floor = floor
        self.count = 0
        self.mean = 0.0
        self.var = 0.0
        self.q = 0.0
        self.excess = 0.0

    def score(self, raw: float) -> float:
        if self.count < self.min_count:
            return 0.0
        std = max(math.sqrt(self.var), self.floor)
        if raw <= self.q:
            body = normal_cdf((raw - self.mean) / std)
            top = max(normal_cdf((self.q - self.mean) / std), 1e-12)
            return _BODY * min(1.0, body / top)
        excess = max(self.excess, self.floor, 1e-3 * std)
        return 1.0 - (1.0 - _BODY) * math.exp(-(raw - self.q) / excess)

    def raw_at(self, calibrated: float) -> float:
        """The raw score whose calibrated score is ``calibrated`` (a level in the tail, above the body).

        >>> cal = TailCalibrator(min_count=1)
        >>> for raw in (0.0, 1.0, 2.0, 3.0) * 50:
        ...     cal.learn(raw)
        >>> round(cal.score(cal.raw_at(0.9999)), 6)
        0.9999
        """
        std = max(math.sqrt(self.var), self.floor)
        excess = max(self.excess, self.floor, 1e-3 * std)
        return self.q + excess * math.log((1.0 - _BODY) / (1.0 - calibrated))

    def learn(self, raw: float) -> None:
        self.count += 1
        alpha = 1.0 / min(self.count, self.span)
        delta = raw - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        std = max(math.sqrt(self.var), self.floor)
        if self.count <= self.min_count:
            # until the calibrator is warm, take the tail from the Gaussian fit
            self.q = self.mean + 1.2816 * std
            self.excess = 0.5 * std
            return
        # frugal quantile tracking, with a step proportional to the spread
        step = 4.0 * alpha * std
        self.q += step * (_BODY - (1.0 if raw <= self.q else 0.0)) / (1.0 - _BODY)
        if raw > self.q:
            weight = min(1.0, max(alpha / (1.0 - _BODY), 1.0 / self.span))
            self.excess += weight * ((raw - self.q) - self.excess)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TailCalibrator:
        cal = cls()
        for name in cls.__slots__:
            setattr(cal, name, type(getattr(cal, name))(data[name]))
        return cal

    def __getstate__(self) -> dict[str, Any]:
        return self.to_json()

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, state[name])
