"""The rate detector: a univariate streaming detector built for changes in rate.

It forecasts the next value with a robust Holt-Winters model (level, trend and,
when ``period`` is set, an additive seasonal profile) and scores the absolute
forecast residual in units of the recent typical residual:

- a **spike** or a **drop** is one large residual, either sign;
- a **level shift** is a run of large residuals of one sign. After ``shift_run``
  of them the detector accepts the new level, so it flags the shift and then
  goes quiet instead of alerting for as long as the new level lasts;
- a smooth trend or season is forecast, so it leaves small residuals and low scores.

Learning is robust: residuals are clipped at ``clip`` typical residuals before
they update the model, so one spike barely moves the forecast. Cold start: the
score is 0 for the first ``warm_up`` points. Cost per point is O(1); memory is
``period`` floats plus a few counters.
"""

from __future__ import annotations

from typing import Any

from river.base import AnomalyDetector

__all__ = ["RateDetector"]


class RateDetector(AnomalyDetector):
    """Raw score: |value - forecast| / typical residual. Input: ``{"value": v}``.

    >>> det = RateDetector(warm_up=5)
    >>> for v in [10, 11, 9, 10, 10, 11, 9, 10, 10, 11]:
    ...     det.learn_one({"value": v})
    >>> det.score_one({"value": 10}) < 2 < det.score_one({"value": 40})
    True
    """

    input_kind = "series"

    def __init__(
        self,
        alpha: float = 0.2,
        beta: float = 0.02,
        gamma: float = 0.1,
        period: int = 0,
        clip: float = 3.0,
        shift_run: int = 3,
        min_scale: float = 1e-6,
        warm_up: int = 10,
        counts: bool = False,
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.period = period
        self.clip = clip
        self.shift_run = shift_run
        self.min_scale = min_scale
        self.warm_up = warm_up
        self.counts = counts
        self._n = 0
        self._level = 0.0
        self._trend = 0.0
        self._scale = 0.0
        self._run = 0
        self._season = [0.0] * period

    def _forecast(self) -> float:
        season = self._season[self._n % self.period] if self.period else 0.0
        forecast = self._level + self._trend + season
        return max(forecast, 0.0) if self.counts else forecast

    def _typical(self) -> float:
        typical = max(self._scale, self.min_scale, 1e-9 * abs(self._level))
        if self.counts:  # Poisson noise: a count of about f varies by about sqrt(f)
            typical = max(typical, (max(self._forecast(), 0.0) + 1.0) ** 0.5)
        return typical

    def score_one(self, x: dict[Any, Any]) -> float:
        if self._n < self.warm_up:
            return 0.0
        return abs(float(x["value"]) - self._forecast()) / self._typical()

    def learn_one(self, x: dict[Any, Any]) -> None:
        value = float(x["value"])
        if self._n == 0:
            self._level = value
            self._n = 1
            return
        forecast = self._forecast()
        residual = value - forecast
        typical = self._typical()
        large = abs(residual) > self.clip * typical and self._n >= self.warm_up
        if large:
            self._run = self._run + 1 if self._run * residual >= 0 else 1
            self._run = self._run if residual > 0 else -abs(self._run)
        else:
            self._run = 0
        if abs(self._run) >= self.shift_run:
            # a level shift: start again from the new level, keep the scale
            self._level, self._trend, self._run = value, 0.0, 0
            if self.period:
                self._season = [0.0] * self.period
            self._n += 1
            return
        bound = self.clip * typical if self._n >= self.warm_up else abs(residual)
        clipped = max(-bound, min(bound, residual))
        slot = self._n % self.period if self.period else 0
        season = self._season[slot] if self.period else 0.0
        previous = self._level
        self._level = self._level + self._trend + self.alpha * clipped
        self._trend = self._trend + self.beta * (self._level - previous - self._trend)
        if self.period:
            self._season[slot] = season + self.gamma * (1 - self.alpha) * clipped
        weight = 1.0 / min(self._n, 50) if self._n < 50 else 0.02
        self._scale += weight * (abs(clipped) - self._scale)
        self._n += 1

    def to_json(self) -> dict[str, Any]:
        """The learned state as plain JSON (parameters are the detector's, not stored)."""
        return {
            "n": self._n,
            "level": self._level,
            "trend": self._trend,
            "scale": self._scale,
            "run": self._run,
            "season": list(self._season),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self._n, self._level, self._trend = int(data["n"]), float(data["level"]), float(data["trend"])
        self._scale, self._run = float(data["scale"]), int(data["run"])
        self._season = [float(v) for v in data["season"]]
