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

from typing import Any

from river import anomaly
from river.base import AnomalyDetector

__all__ = ["BehaviourDetector"]

MODELS = ("half_space_trees", "one_class_svm")


class BehaviourDetector(AnomalyDetector):
    """A river anomaly detector over feature dicts whose values are in [0, 1].

    - ``half_space_trees``: ``HalfSpaceTrees`` over the features as they are. Cold
      start: the score is 0 until the first window of ``window_size`` points is full.
    - ``one_class_svm``: ``OneClassSVM`` over the features as they are.

    No online scaler: the features are already on one [0, 1] scale with 0 the
    usual (``detectors.models.features``), which is the range HalfSpaceTrees
    splits. An online min-max or standard scaler maps a feature that has never
    varied to 0 whatever its value, so the first new country, the first failure
    burst, would be invisible to the model exactly when it matters.

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
        if model == "half_space_trees":
            self._pipeline = anomaly.HalfSpaceTrees(
                n_trees=n_trees, height=height, window_size=window_size, seed=seed
            )
        else:
            self._pipeline = anomaly.OneClassSVM(nu=nu)

    def learn_one(self, x: dict[Any, Any]) -> None:
        self._pipeline.learn_one(x)

    def score_one(self, x: dict[Any, Any]) -> float:
        return float(self._pipeline.score_one(x))
