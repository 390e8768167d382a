"""The stall detector: a stall is no progress for N seconds while records wait, reported once."""

from __future__ import annotations

import pytest

from alerts.model import Alert
from pipeline.stall import (
    RESUMED_RULE,
    STALL_RULE,
    PartitionSample,
    Resumed,
    StallDetector,
    Stalled,
    resumed_alert,
    stall_alert,
)

T0 = 1_767_225_600.0


def sample(position: int, highwater: int, at: float, partition: int = 0) -> PartitionSample:
    return PartitionSample("audit.events", partition, position, highwater, T0 + at)


def feed(detector: StallDetector, samples: list[PartitionSample]) -> list[Stalled | Resumed]:
    return [change for s in samples if (change := detector.observe(s)) is not None]


def test_idle_partition_with_zero_lag_never_stalls() -> None:
    detector = StallDetector(stall_after=30)
    assert feed(detector, [sample(100, 100, t) for t in range(0, 600, 5)]) == []
    assert not detector.is_stalled("audit.events", 0)


def test_growing_lag_with_progress_is_not_a_stall() -> None:
    detector = StallDetector(stall_after=30)
    # Records arrive faster than they are processed, but the position keeps moving.
    samples = [sample(10 * t, 20 * t, t) for t in range(0, 300, 5)]
    assert feed(detector, samples) == []


def test_a_backlog_nobody_works_through_is_a_stall_even_when_nothing_new_arrives() -> None:
    detector = StallDetector(stall_after=30)
    changes = feed(detector, [sample(50, 80, t) for t in range(0, 300, 5)])
    assert changes == [
        Stalled("audit.events", 0, since=T0, at=T0 + 30, position=50, lag=30, lag_at_progress=30)
    ]


def test_no_progress_while_lag_grows_is_reported_once_after_the_threshold() -> None:
    detector = StallDetector(stall_after=30)
    samples = [sample(100, 100, 0), sample(100, 105, 10), sample(100, 110, 25)]
    assert feed(detector, samples) == []
    changes = feed(detector, [sample(100, 120, 30), sample(100, 130, 40), sample(100, 140, 90)])
    assert changes == [
        Stalled("audit.events", 0, since=T0, at=T0 + 30, position=100, lag=20, lag_at_progress=0)
    ]
    assert detector.is_stalled("audit.events", 0)


def test_progress_after_a_stall_reports_one_resumption_and_rearms() -> None:
    detector = StallDetector(stall_after=30)
    feed(detector, [sample(100, 100, 0), sample(100, 150, 40)])
    changes = feed(detector, [sample(130, 150, 45), sample(150, 150, 50)])
    assert changes == [Resumed("audit.events", 0, since=T0, at=T0 + 45, position=130, lag=20)]
    assert not detector.is_stalled("audit.events", 0)
    # A second stall of the same partition is reported again, with its own start.
    again = feed(detector, [sample(150, 160, 60), sample(150, 170, 81)])
    assert [type(c) for c in again] == [Stalled]
    assert again[0].since == T0 + 50


def test_partitions_are_independent_and_forget_drops_history() -> None:
    detector = StallDetector(stall_after=10)
    changes = feed(
        detector,
        [sample(0, 0, 0, partition=0), sample(0, 0, 0, partition=1),
         sample(0, 5, 20, partition=0), sample(9, 9, 20, partition=1)],
    )  # fmt: skip
    assert [(type(c), c.partition) for c in changes] == [(Stalled, 0)]
    detector.forget("audit.events", 0)
    assert not detector.is_stalled("audit.events", 0)
    assert detector.observe(sample(0, 50, 100, partition=0)) is None  # a fresh start, not a stall


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        StallDetector(stall_after=0)


def test_stall_and_resolution_alerts_are_canonical_and_deterministic() -> None:
    stalled = Stalled("audit.events", 3, since=T0, at=T0 + 75, position=10, lag=40, lag_at_progress=2)
    alert = stall_alert(stalled, worker="host/app")
    assert alert == stall_alert(stalled, worker="host/app")  # same id when re-sent
    assert Alert.from_json_bytes(alert.to_json_bytes()) == alert
    assert alert.rule_id == STALL_RULE
    assert alert.severity.label == "high"
    assert alert.group == {"topic": "audit.events", "partition": "3"}
    assert alert.labels["alertname"] == STALL_RULE
    assert "no progress for 75s" in alert.summary and "while 40 records waited (2 when" in alert.summary
    resolution = resumed_alert(Resumed("audit.events", 3, since=T0, at=T0 + 80, position=11, lag=39))
    assert resolution.rule_id == RESUMED_RULE
    assert resolution.window_start == alert.window_start
    assert resolution.id != alert.id
    later = Stalled("audit.events", 3, since=T0 + 500, at=T0 + 600, position=90, lag=9, lag_at_progress=0)
    assert stall_alert(later).id != alert.id  # a later stall is a new alert
