"""The worker's monitor over a fake Faust consumer: lag and stall gauges, stall alerts, parked count."""

from __future__ import annotations

from dataclasses import dataclass, field

from faust.types import TP
from prometheus_client import REGISTRY

from alerts.model import Alert
from pipeline.agents.monitor import PipelineMonitor
from pipeline.stall import RESUMED_RULE, STALL_RULE

EVENTS, CHANGELOG, PARKED = "mon.audit.events", "mon.rule-state-changelog", "mon.audit.alerts.dlq"


@dataclass
class FakeConsumer:
    """The parts of Faust's consumer the monitor reads, and the log starts and ends it asks for."""

    assigned: set[TP] = field(default_factory=set)
    highwaters_: dict[TP, int] = field(default_factory=dict)
    _committed_offset: dict[TP, int] = field(default_factory=dict)
    earliest_: dict[TP, int] = field(default_factory=dict)

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters_.get(tp)

    async def earliest(self, tps: list[TP]) -> dict[TP, int]:
        return {tp: self.earliest_.get(tp, 0) for tp in tps}

    async def latest(self, tps: list[TP]) -> dict[TP, int]:
        return {tp: self.highwaters_.get(tp, 0) for tp in tps}


def gauge(name: str, partition: int, topic: str = EVENTS) -> float | None:
    return REGISTRY.get_sample_value(name, {"topic": topic, "partition": str(partition)})


async def test_a_stall_is_gauged_and_alerted_once_then_resolved_and_revocation_clears_it() -> None:
    sent: list[Alert] = []
    clock = [1_000.0]

    async def send(alert: Alert) -> None:
        sent.append(alert)

    p0, p1, log = TP(EVENTS, 0), TP(EVENTS, 1), TP(CHANGELOG, 0)
    consumer = FakeConsumer(assigned={p0, p1, log})
    monitor = PipelineMonitor(
        watched=[EVENTS],
        parked=[TP(PARKED, 0)],
        stall_after=10,
        send=send,
        offsets=consumer,
        clock=lambda: clock[0],
    )
    consumer.earliest_[p0] = 5  # before the first commit, the log's start counts
    consumer._committed_offset[p1] = 7
    consumer.highwaters_.update({p0: 5, p1: 7, log: 100})

    async def at(seconds: float, p0_position: int, p0_highwater: int) -> None:
        clock[0] = 1_000.0 + seconds
        consumer._committed_offset[p0] = p0_position
        consumer.highwaters_[p0] = p0_highwater
        await monitor.sample(consumer)

    await monitor.sample(consumer)
    assert gauge("auditwatch_consumer_lag", 0) == 0
    await at(5, 5, 8)
    await at(9, 5, 9)
    assert sent == []
    await at(12, 5, 12)
    await at(20, 5, 15)
    assert [a.rule_id for a in sent] == [STALL_RULE]
    assert sent[0].group == {"topic": EVENTS, "partition": "0"}
    assert (gauge("auditwatch_consumer_lag", 0), gauge("auditwatch_partition_stalled", 0)) == (10, 1)
    assert gauge("auditwatch_partition_stalled", 1) == 0  # idle, caught up: not stalled
    assert gauge("auditwatch_consumer_lag", 0, topic=CHANGELOG) is None  # changelogs are not watched

    await at(25, 15, 15)
    assert [a.rule_id for a in sent] == [STALL_RULE, RESUMED_RULE]
    assert sent[1].window_start == sent[0].window_start
    assert gauge("auditwatch_partition_stalled", 0) == 0

    consumer.assigned = {p1}
    await monitor.sample(consumer)
    assert gauge("auditwatch_consumer_lag", 0) is None
    assert gauge("auditwatch_partition_stalled", 0) is None


async def test_parked_notifications_are_the_records_held_in_the_alerts_dead_letter_topic() -> None:
    async def send(alert: Alert) -> None:
        raise AssertionError("no alert expected")

    tps = [TP(PARKED, 0), TP(PARKED, 1)]
    consumer = FakeConsumer(highwaters_={tps[0]: 5, tps[1]: 2}, earliest_={tps[0]: 1})
    monitor = PipelineMonitor(watched=[EVENTS], parked=tps, stall_after=10, send=send, offsets=consumer)
    await monitor.sample(consumer)
    assert REGISTRY.get_sample_value("auditwatch_notifications_parked") == 6


async def test_a_consumer_that_is_not_started_is_skipped() -> None:
    class NotStarted:
        def assignment(self) -> set[TP]:
            raise RuntimeError("consumer not started")

        async def earliest(self, tps: list[TP]) -> dict[TP, int]:
            raise RuntimeError("broker unreachable")

        async def latest(self, tps: list[TP]) -> dict[TP, int]:
            raise RuntimeError("broker unreachable")

    async def send(alert: Alert) -> None:
        raise AssertionError("no alert expected")

    before = REGISTRY.get_sample_value("auditwatch_notifications_parked")
    away = NotStarted()
    monitor = PipelineMonitor(
        watched=[EVENTS], parked=[TP(PARKED, 0)], stall_after=10, send=send, offsets=away
    )
    await monitor.sample(away)
    assert REGISTRY.get_sample_value("auditwatch_notifications_parked") == before
