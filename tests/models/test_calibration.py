from __future__ import annotations

import random

from detectors.models import TailCalibrator


def test_cold_start_scores_zero() -> None:
    cal = TailCalibrator(min_count=10)
    for _ in range(9):
        cal.learn(1.0)
    assert cal.score(100.0) == 0.0


def test_false_positive_rate_is_near_nominal_on_half_normal_scores() -> None:
    """The exponential tail is a slight underestimate near the 90th percentile, conservative beyond."""
    rng = random.Random(5)
    cal = TailCalibrator()
    for _ in range(10_000):
        cal.learn(abs(rng.gauss(0, 1)))
    fresh = [abs(rng.gauss(0, 1)) for _ in range(50_000)]
    for threshold, slack in ((0.99, 1.5), (0.999, 1.0), (0.9999, 1.0)):
        rate = sum(cal.score(x) >= threshold for x in fresh) / len(fresh)
        assert rate <= slack * (1 - threshold)


def test_scores_are_monotone_and_in_unit_interval() -> None:
    rng = random.Random(2)
    cal = TailCalibrator(min_count=50)
    for _ in range(1000):
        cal.learn(rng.expovariate(1.0))
    scores = [cal.score(x / 10) for x in range(0, 200)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores)


def test_json_round_trip() -> None:
    cal = TailCalibrator(min_count=5)
    for x in (0.1, 0.5, 0.2, 0.9, 0.3, 0.4, 0.25):
        cal.learn(x)
    assert TailCalibrator.from_json(cal.to_json()).score(0.8) == cal.score(0.8)
