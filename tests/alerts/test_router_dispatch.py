"""Aggregation groups, timers, dedup, muting and the pending-notification log, without Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.model import Alert
from alerts.router.config import parse_router_config
from alerts.router.dispatch import DeliveryJob, GroupDispatcher, IntegrationRef
from alerts.router.inhibit import ActiveAlerts, Inhibitor
from alerts.router.messages import DeliveryResult
from alerts.router.silence import Silencer, Silences, new_silence
from alerts.router.spec import RouterSpec
from detectors.findings import Severity
from tests.alerts.conftest import AlertFactory

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # a Wednesday
WEBHOOK = IntegrationRef("team/webhook/0", send_resolved=True)
SLACK = IntegrationRef("team/slack/0", send_resolved=False)

CONFIG: dict[str, Any] = {
    "global": {"resolve_timeout": "10m"},
    "route": {
        "receiver": "team",
        "group_by": ["alertname"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "1h",
        "routes": [{"matchers": ['severity="low"'], "receiver": "team", "mute_time_intervals": ["weekends"]}],
    },
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="high"'],
            "equal": ["entity"],
        }
    ],
    "time_intervals": [{"name": "weekends", "time_intervals": [{"weekdays": ["saturday", "sunday"]}]}],
    "receivers": [{"name": "team"}],
}


class Harness:
    def __init__(self) -> None:
        self.spec = RouterSpec.of(parse_router_config(CONFIG))
        self.groups: dict[str, Any] = {}
        self.alerts: dict[str, Any] = {}
        self.nflog: dict[str, Any] = {}
        self.active = ActiveAlerts(self.spec.inhibit_rules)
        self.silences = Silences()
        self.dispatcher = GroupDispatcher(
            self.spec,
            groups=self.groups,
            alerts=self.alerts,
            nflog=self.nflog,
            integrations={"team": [WEBHOOK, SLACK]},
            inhibitor=Inhibitor(self.active),
            silencer=Silencer(self.silences),
        )

    def receive(self, alert: Alert, now: datetime) -> None:
        for routed in self.dispatcher.route(alert, now):
            self.active.add(alert.id, routed.labels, now + timedelta(minutes=10))
            self.dispatcher.ingest(routed, partition=0, now=now)

    def flush(self, now: datetime, in_flight: tuple[str, ...] = ()) -> list[DeliveryJob]:
        return self.dispatcher.flush_due(0, now, in_flight).jobs

    def deliver(self, jobs: list[DeliveryJob], now: datetime) -> None:
        for job in jobs:
            result = DeliveryResult(
                group_id=job.notification.group_id,
                integration=job.integration,
                notification_id=job.notification.id,
                outcome="delivered",
                at=now,
            )
            assert self.dispatcher.record(result)


@pytest.fixture
def harness() -> Harness:
    return Harness()


def alerts_for(make_alert: AlertFactory, count: int, **overrides: Any) -> list[Alert]:
    return [make_alert(group={"actor.id": f"user{i}"}, **overrides) for i in range(count)]


def test_fifty_alerts_of_one_group_make_one_notification_after_group_wait(
    harness: Harness, make_alert: AlertFactory
) -> None:
    for offset, alert in enumerate(alerts_for(make_alert, 50)):
        harness.receive(alert, T0 + timedelta(milliseconds=offset * 100))

    assert len(harness.groups) == 1
    assert harness.flush(T0 + timedelta(seconds=29)) == []
    jobs = harness.flush(T0 + timedelta(seconds=30))

    assert [job.integration for job in jobs] == [WEBHOOK.name, SLACK.name]
    assert all(len(job.notification.alerts) == 50 for job in jobs)
    assert jobs[0].notification.group_key == '{}:{alertname="failed-logins"}'
    assert jobs[0].notification.status == "firing"


def test_a_pending_notification_blocks_the_group_and_is_handed_out_again_with_its_id(
    harness: Harness, make_alert: AlertFactory
) -> None:
    harness.receive(make_alert(), T0)
    jobs = harness.flush(T0 + timedelta(seconds=30))
    in_flight = tuple(job.key for job in jobs)

    assert harness.flush(T0 + timedelta(minutes=6), in_flight) == []
    # The worker died: nobody works on them any more, so the next flush hands them out again.
    again = harness.flush(T0 + timedelta(minutes=6))
    assert [job.notification.id for job in again] == [job.notification.id for job in jobs]
    assert all(job.recovered for job in again)
    harness.deliver(again, T0 + timedelta(minutes=6))
    assert harness.flush(T0 + timedelta(minutes=6)) == []


def test_dedup_new_alerts_and_repeat_interval(harness: Harness, make_alert: AlertFactory) -> None:
    first, second = alerts_for(make_alert, 2)
    harness.receive(first, T0)
    harness.deliver(harness.flush(T0 + timedelta(seconds=30)), T0 + timedelta(seconds=31))

    harness.receive(first, T0 + timedelta(minutes=5))  # the same alert again: nothing new
    assert harness.flush(T0 + timedelta(minutes=5, seconds=30)) == []
    harness.receive(second, T0 + timedelta(minutes=6))
    assert harness.flush(T0 + timedelta(minutes=7)) == []  # waits for group_interval
    jobs = harness.flush(T0 + timedelta(minutes=10, seconds=30))
    assert [len(job.notification.alerts) for job in jobs] == [2, 2]
    assert [job.notification.sequence for job in jobs] == [2, 2]
    harness.deliver(jobs, T0 + timedelta(minutes=10, seconds=31))

    # Keep the alerts firing: nothing is sent until the first flush an hour after the last notification.
    for minute in range(15, 80, 5):
        now = T0 + timedelta(minutes=minute, seconds=30)
        harness.receive(first, now)
        harness.receive(second, now)
        jobs = harness.flush(now)
        if minute < 75:
            assert jobs == [], minute
    assert [job.notification.sequence for job in jobs] == [3, 3]


def test_resolved_alerts_are_sent_where_wanted_then_the_group_goes(
    harness: Harness, make_alert: AlertFactory
) -> None:
    harness.receive(make_alert(), T0)
    harness.deliver(harness.flush(T0 + timedelta(seconds=30)), T0 + timedelta(seconds=31))

    # resolve_timeout is 10m: at the flush at 10m30s the alert is resolved.
    jobs = harness.flush(T0 + timedelta(minutes=10, seconds=30))
    assert [job.integration for job in jobs] == [WEBHOOK.name]  # Slack does not send_resolved
    assert jobs[0].notification.status == "resolved"
    harness.deliver(jobs, T0 + timedelta(minutes=10, seconds=31))
    assert harness.nflog[f"{jobs[0].notification.group_id}|{SLACK.name}"]["firing"] == []

    assert harness.flush(T0 + timedelta(minutes=15, seconds=30)) == []
    assert harness.groups == {} and harness.alerts == {} and harness.nflog == {}


def test_a_silenced_alert_is_not_sent_and_is_sent_after_the_silence_expires(
    harness: Harness, make_alert: AlertFactory
) -> None:
    silence = new_silence(
        ['"actor.id"="user0"'], T0, T0 + timedelta(minutes=7), "oncall", "maintenance", now=T0
    )
    harness.silences.put(silence)
    silenced, loud = alerts_for(make_alert, 2)
    harness.receive(silenced, T0)
    harness.receive(loud, T0)

    jobs = harness.flush(T0 + timedelta(seconds=30))
    assert [s.alert.id for s in jobs[0].notification.alerts] == [loud.id]
    harness.deliver(jobs, T0 + timedelta(seconds=31))
    harness.receive(silenced, T0 + timedelta(minutes=5))  # still firing
    harness.receive(loud, T0 + timedelta(minutes=5))

    jobs = harness.flush(T0 + timedelta(minutes=10, seconds=30))  # the silence ended at 7m
    assert {s.alert.id for s in jobs[0].notification.alerts} == {silenced.id, loud.id}


def test_an_inhibited_alert_is_not_sent(harness: Harness, make_alert: AlertFactory) -> None:
    critical = make_alert(rule_id="account-takeover", severity=Severity.CRITICAL)
    high = make_alert(severity=Severity.HIGH)
    harness.receive(critical, T0)
    harness.receive(high, T0)

    jobs = harness.flush(T0 + timedelta(seconds=30))

    sent = {state.alert.rule_id for job in jobs for state in job.notification.alerts}
    assert sent == {"account-takeover"}


def test_a_route_muted_by_a_time_interval_sends_nothing(harness: Harness, make_alert: AlertFactory) -> None:
    saturday = datetime(2024, 5, 4, 10, tzinfo=UTC)
    harness.receive(make_alert(severity=Severity.LOW), saturday)
    assert harness.flush(saturday + timedelta(seconds=30)) == []
    monday = datetime(2024, 5, 6, 10, tzinfo=UTC)
    harness.receive(make_alert(severity=Severity.LOW), monday)
    assert len(harness.flush(monday + timedelta(seconds=30))) == 2


def test_a_stale_result_changes_nothing(harness: Harness, make_alert: AlertFactory) -> None:
    harness.receive(make_alert(), T0)
    (job, _) = harness.flush(T0 + timedelta(seconds=30))
    stale = DeliveryResult(
        group_id=job.notification.group_id,
        integration=job.integration,
        notification_id="ntf_other",
        outcome="delivered",
        at=T0,
    )
    assert not harness.dispatcher.record(stale)


def test_groups_of_other_partitions_are_left_alone(harness: Harness, make_alert: AlertFactory) -> None:
    harness.receive(make_alert(), T0)
    assert harness.dispatcher.flush_due(1, T0 + timedelta(hours=1)).jobs == []


def test_a_worker_taking_over_a_partition_finds_its_groups(make_alert: AlertFactory) -> None:
    first = Harness()
    first.receive(make_alert(), T0)
    # Another worker, over the same stores (the restored tables), has never seen the group.
    second = GroupDispatcher(
        first.spec,
        groups=first.groups,
        alerts=first.alerts,
        nflog=first.nflog,
        integrations={"team": [WEBHOOK]},
        inhibitor=Inhibitor(first.active),
        silencer=Silencer(first.silences),
        rescan=10.0,
    )
    assert second.flush_due(0, T0 + timedelta(seconds=5)).jobs == []
    first.receive(make_alert(group={"actor.id": "late"}, rule_id="other"), T0 + timedelta(seconds=6))
    # Its schedule was built before the second group was written; the next rescan finds it.
    jobs = second.flush_due(0, T0 + timedelta(seconds=40)).jobs
    assert sorted(job.notification.group_key for job in jobs) == [
        '{}:{alertname="failed-logins"}',
        '{}:{alertname="other"}',
    ]
