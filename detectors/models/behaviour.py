"""The behaviour detector: one river anomaly model over every entity's features.

The model is shared by all entities of a detector; what makes it per-entity is
the features, which already measure distance from the entity's own normal
(new IP for *this* actor, *this* actor's usual hours). So memory per entity is
the feature state only (see ``detectors.models.features``), and the model is
fixed-size: HalfSpaceTrees holds ``n_trees * 2**(height+1)`` node masses.

Cost per event grows with ``n_trees * height`` for HalfSpaceTrees, and with the
number of features for the one-class SVM.
"""

from __future__ import annotations

import math
from typing import Any

from river import anomaly
from river.base import AnomalyDetector

__all__ = ["BehaviourDetector"]

MODELS = ("half_space_trees", "one_class_svm")
SPREAD_FLOOR = 0.05


class BehaviourDetector(AnomalyDetector):
    """A river anomaly detector over feature dicts whose values are in [0, 1].

    - ``half_space_trees``: ``HalfSpaceTrees`` over the features as they are. Cold
      start: the score is 0 until the first window of ``window_size`` points is full.
    - ``one_class_svm``: ``OneClassSVM`` over the features standardised with a
      floor on each feature's deviation (``SPREAD_FLOOR``).

    No plain online scaler: river's min-max and standard scalers map a feature
    that has never varied to 0 whatever its value, so the first new country, the
    first failure burst, would be invisible to the model exactly when it matters.
    HalfSpaceTrees needs none: the features are already on one [0, 1] scale with
    0 the usual (``detectors.models.features``), the range it splits. The SVM's
    margin wants centred features, so it gets a standard scaler whose deviation
    never falls below ``SPREAD_FLOOR``: a never-varied feature that moves by 1
    moves by 1 / ``SPREAD_FLOOR`` deviations.

    >>> det = BehaviourDetector(window_size=20, seed=1)
    >>> for i in range(60):
    ...     det.learn_one({"a": (i % 5) / 10, "b": 0.0})
    >>> det.score_one({"a": 0.2, "b": 0.0}) < det.score_one({"a": 1.0, "b": 1.0})
    True
    """

    def __init__(
        self,
        model: str = "half_space_trees",
        n_trees: int = 15,
        height: int = 8,
        window_size: int = 250,
        nu: float = 0.05,
        seed: int = 42,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown behaviour model {model!r}; use one of {', '.join(MODELS)}")
        self.model = model
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.nu = nu
        self.seed = seed
        self._pipeline: Any
        self._mean: dict[Any, float] = {}
        self._var: dict[Any, float] = {}
        self._n = 0
        if model == "half_space_trees":
            self._pipeline = anomaly.HalfSpaceTrees(
                n_trees=n_trees, height=height, window_size=window_size, seed=seed
            )
        else:
            self._pipeline = anomaly.OneClassSVM(nu=nu)

    def _scaled(self, x: dict[Any, Any]) -> dict[Any, Any]:
        if self.model == "half_space_trees":
            return x
        return {
            k: (v - self._mean.get(k, 0.0)) / max(math.sqrt(self._var.get(k, 0.0)), SPREAD_FLOOR)
            for k, v in x.items()
        }

    def learn_one(self, x: dict[Any, Any]) -> None:
        if self.model != "half_space_trees":
            self._n += 1
            for k, v in x.items():  # Welford's running mean and variance
                mean = self._mean.get(k, 0.0)
                delta = v - mean
                self._mean[k] = mean + delta / self._n
                self._var[k] = (
                    self._var.get(k, 0.0) + (delta * (v - self._mean[k]) - self._var.get(k, 0.0)) / self._n
                )
        self._pipeline.learn_one(self._scaled(x))

    def score_one(self, x: dict[Any, Any]) -> float:
        return float(self._pipeline.score_one(self._scaled(x)))
