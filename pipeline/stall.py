"""Stall detection: a partition whose consumer makes no progress while records wait for it.

Faust's users report consumers that stop silently: the worker is up, the
group is stable, and one partition's position no longer moves while records
keep arriving. :class:`StallDetector` is fed samples of
``(topic, partition, position, highwater, time)`` and reports changes:

* :class:`Stalled` once, when the position has not moved for
  ``stall_after`` seconds *and* records are waiting (lag above zero). Without
  progress the lag cannot shrink, so it has grown or stayed: records arrived
  that nobody processes, or a backlog nobody works through (a worker that
  starts stuck on its first record sees the whole backlog at once);
* :class:`Resumed` once, when a stalled partition's position moves again.

An idle partition (no new records, zero lag) never stalls, however long it
is quiet; nor does a busy one whose lag grows while its position advances.

The detector is pure: no clock, no Kafka. The worker's adapter
(``pipeline.agents.monitor``) samples the Faust consumer on a timer, sets
``auditwatch_partition_stalled`` and sends the alerts :func:`stall_alert`
builds to the alerts topic, where they are routed like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from alerts.model import Alert, build_alert
from detectors.findings import Finding, Severity

__all__ = [
    "RESUMED_RULE",
    "STALL_RULE",
    "PartitionSample",
    "Resumed",
    "StallDetector",
    "Stalled",
    "resumed_alert",
    "stall_alert",
]

STALL_RULE = "auditwatch.pipeline.stall"
RESUMED_RULE = "auditwatch.pipeline.stall.resolved"


@dataclass(frozen=True, slots=True)
class PartitionSample:
    """One observation of a partition: where the consumer is and where the log ends."""

    topic: str
    partition: int
    position: int
    """The next offset this worker will process (its committed position)."""
    highwater: int
    """The offset the next record written to the partition will get."""
    at: float
    """Seconds since the epoch."""

    @property
    def lag(self) -> int:
        return max(0, self.highwater - self.position)


@dataclass(frozen=True, slots=True)
class _Change:
    topic: str
    partition: int
    since: float
    """When the position last moved (the start of the stall)."""
    at: float
    position: int
    lag: int


@dataclass(frozen=True, slots=True)
class Stalled(_Change):
    lag_at_progress: int
    """The lag when the position last moved; it has grown since."""


@dataclass(frozen=True, slots=True)
class Resumed(_Change):
    """A stalled partition's position moved again."""


@dataclass(slots=True)
class _Track:
    position: int
    progress_at: float
    lag_at_progress: int
    stalled: bool = False


@dataclass
class StallDetector:
    """See the module docstring. ``stall_after`` is in seconds."""

    stall_after: float
    _tracks: dict[tuple[str, int], _Track] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.stall_after <= 0:
            raise ValueError("stall_after must be a positive number of seconds")

    def observe(self, sample: PartitionSample) -> Stalled | Resumed | None:
        """Take one sample; a change of state is returned once, otherwise None."""
        key = (sample.topic, sample.partition)
        track = self._tracks.get(key)
        if track is None:
            self._tracks[key] = _Track(sample.position, sample.at, sample.lag)
            return None
        if sample.position != track.position:
            was_stalled, since = track.stalled, track.progress_at
            track.position, track.progress_at, track.lag_at_progress = sample.position, sample.at, sample.lag
            track.stalled = False
            if was_stalled:
                return Resumed(sample.topic, sample.partition, since, sample.at, sample.position, sample.lag)
            return None
        if track.stalled:
            return None
        if sample.at - track.progress_at >= self.stall_after and sample.lag > 0:
            track.stalled = True
            return Stalled(
                sample.topic,
                sample.partition,
                track.progress_at,
                sample.at,
                sample.position,
                sample.lag,
                track.lag_at_progress,
            )
        return None

    def forget(self, topic: str, partition: int) -> None:
        """The partition was revoked: its history means nothing on another worker."""
        self._tracks.pop((topic, partition), None)

    def is_stalled(self, topic: str, partition: int) -> bool:
        track = self._tracks.get((topic, partition))
        return track is not None and track.stalled


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _finding(rule: str, title: str, severity: Severity, change: Stalled | Resumed, summary: str) -> Finding:
    since, at = _moment(change.since), _moment(change.at)
    return Finding(
        rule_id=rule,
        rule_title=title,
        severity=severity,
        group={"topic": change.topic, "partition": str(change.partition)},
        count=1,
        window_start=since,
        window_end=at,
        first_seen=since,
        last_seen=at,
        tags=("auditwatch.pipeline",),
        summary=summary,
    )


def stall_alert(change: Stalled, *, worker: str = "") -> Alert:
    """The alert for a stall. Its id depends on the partition and when progress stopped, so a
    re-sent copy deduplicates while a later stall of the same partition is a new alert."""
    stuck = change.at - change.since
    summary = (
        f"{change.topic}[{change.partition}] made no progress for {stuck:.0f}s at offset "
        f"{change.position} while {change.lag} records waited ({change.lag_at_progress} when it last moved)"
        + (f" (worker {worker})" if worker else "")
    )
    return build_alert(_finding(STALL_RULE, "Consumer stalled", Severity.HIGH, change, summary))


def resumed_alert(change: Resumed, *, worker: str = "") -> Alert:
    """The resolution: the same partition and stall start, under the ``.resolved`` rule id."""
    summary = (
        f"{change.topic}[{change.partition}] resumed at offset {change.position} after "
        f"{change.at - change.since:.0f}s without progress; lag now {change.lag}"
        + (f" (worker {worker})" if worker else "")
    )
    return build_alert(_finding(RESUMED_RULE, "Consumer resumed", Severity.INFO, change, summary))
