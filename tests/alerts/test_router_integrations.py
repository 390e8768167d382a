"""Receivers' integrations: payloads, Slack's limits with oversize groups, PagerDuty, and delivery policy."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from alerts.delivery import RetryPolicy
from alerts.integrations.config import PagerDutyIntegrationConfig, SlackIntegrationConfig
from alerts.integrations.console import ConsoleNotifier
from alerts.integrations.delivery import IntegrationSender, ParkedGroupNotification, SendOutcome, TokenBucket
from alerts.integrations.file import FileNotifier
from alerts.integrations.pagerduty import MAX_SUMMARY, PagerDutyNotifier, dedup_key
from alerts.integrations.slack import SlackNotifier, slack_group_message
from alerts.integrations.webhook import WebhookNotifier, group_payload
from alerts.model import Alert
from alerts.notification import AlertState, Notification, routing_labels
from alerts.signing import verify
from alerts.sinks.base import SendResult
from alerts.sinks.slack import (
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_TEXT,
)
from alerts.templates import compile_template
from detectors.findings import Severity
from tests.alerts.conftest import AlertFactory

NOW = datetime(2024, 5, 1, 10, 5, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Sample = Callable[[int], dict[str, Any]]


def notification(alerts: list[Alert], *, resolved: int = 0, receiver: str = "team") -> Notification:
    states = [
        AlertState(
            alert=alert,
            labels=routing_labels(alert),
            starts_at=alert.first_seen,
            ends_at=NOW - timedelta(seconds=1) if index < resolved else NOW + timedelta(minutes=5),
            updated_at=NOW,
        )
        for index, alert in enumerate(alerts)
    ]
    return Notification(
        id="ntf_0123",
        group_id='{}:{alertname="failed-logins"}',
        group_key='{}:{alertname="failed-logins"}',
        receiver=receiver,
        integration=f"{receiver}/webhook/0",
        group_labels={"alertname": "failed-logins"},
        alerts=tuple(states),
        now=NOW,
    )


def oversize(make_alert: AlertFactory, login_sample: Sample) -> Alert:
    """An alert whose every text is far over Slack's limits: a 10,000-character summary, 200 samples."""
    alert = make_alert(
        rule_title="T" * 1000,
        description="<!channel> & " * 2000,
        group={"actor.id": "a&b<c>" * 500},
        evidence=tuple({**login_sample(i), "reason": f"reason {i} " + "&" * 2000} for i in range(200)),
    )
    return alert.model_copy(update={"summary": "S" * 10_000})


def check_slack_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert len(message["text"]) <= MAX_TEXT
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        fields = block.get("fields", [])
        assert len(fields) <= MAX_FIELDS
        assert all(len(field["text"]) <= MAX_FIELD_TEXT for field in fields)
        for element in block.get("elements", []):
            assert len(element["text"]) <= MAX_SECTION_TEXT
    assert "<!channel>" not in json.dumps(message)


@pytest.mark.parametrize("count", [1, 3, 120])
def test_slack_group_message_fits_every_limit_with_oversize_alerts(
    make_alert: AlertFactory, login_sample: Sample, count: int
) -> None:
    big = oversize(make_alert, login_sample)
    alerts = [big.model_copy(update={"id": f"{i:032x}"}) for i in range(count)]
    message = slack_group_message(notification(alerts))
    check_slack_limits(message)
    text = json.dumps(message)
    if count == 120:
        assert "more alerts not shown" in text


def test_slack_group_message_reads_well(make_alert: AlertFactory) -> None:
    alerts = [make_alert(group={"actor.id": name}) for name in ("alice", "bob")]
    runbook = compile_template("https://runbooks.example.com/{{ common_labels.alertname }}")
    message = slack_group_message(notification(alerts, resolved=1), runbook_url=runbook)
    check_slack_limits(message)
    header = message["blocks"][0]["text"]["text"]
    assert header == ":red_circle: 2 alerts: Failed logins burst: actor.id=alice and 1 more"
    text = json.dumps(message)
    assert "<https://runbooks.example.com/failed-logins|Runbook>" in text
    assert "1 firing, 1 resolved" in text
    assert "(resolved)" in text


def test_slack_templates_render_per_notification(make_alert: AlertFactory) -> None:
    config = SlackIntegrationConfig(
        url_env="X", title="{{ alerts|length }} x {{ group_labels.alertname }}", text="{{ status }}"
    )
    notifier = SlackNotifier("team/slack/0", "https://hooks.slack.test/x", httpx.AsyncClient(), config)
    message = notifier.message(notification([make_alert()]))
    assert message["blocks"][0]["text"]["text"] == ":red_circle: 1 x failed-logins"
    assert message["blocks"][1]["text"]["text"] == "firing"


async def test_webhook_posts_a_signed_alertmanager_v4_payload(make_alert: AlertFactory) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        notifier = WebhookNotifier("team/webhook/0", "https://soar.test/hook", SECRET, client)
        alerts = [
            make_alert(group={"actor.id": "alice"}, evidence=({"password": "hunter2", "actor": "alice"},))
        ]
        result = await notifier.notify(notification(alerts))

    assert result.ok
    (request,) = seen
    verify(SECRET, request.content, dict(request.headers))
    assert request.headers["webhook-id"] == "ntf_0123"
    body = json.loads(request.content)
    assert body["version"] == "4"
    assert body["groupKey"] == '{}:{alertname="failed-logins"}'
    assert body["status"] == "firing"
    assert body["groupLabels"] == {"alertname": "failed-logins"}
    assert body["commonLabels"]["alertname"] == "failed-logins"
    (alert,) = body["alerts"]
    assert alert["fingerprint"] == alerts[0].id
    assert alert["annotations"]["summary"] == alerts[0].summary
    assert alert["auditwatch"]["evidence"] == [{"password": "[REDACTED]", "actor": "alice"}]


def test_webhook_payload_truncates_to_max_alerts(make_alert: AlertFactory) -> None:
    alerts = [make_alert(group={"actor.id": f"u{i}"}) for i in range(5)]
    payload = group_payload(notification(alerts, resolved=5), max_alerts=2)
    assert payload["truncatedAlerts"] == 3
    assert len(payload["alerts"]) == 2
    assert payload["status"] == "resolved"


async def test_pagerduty_triggers_then_resolves_the_same_incident(make_alert: AlertFactory) -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(202, json={"status": "success"})

    config = PagerDutyIntegrationConfig(routing_key_env="PD_KEY", url="https://pd.test/v2/enqueue")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        notifier = PagerDutyNotifier("team/pagerduty/0", "R0UT1NG", client, config)
        big = make_alert(severity=Severity.CRITICAL).model_copy(update={"title": "X" * 5000})
        assert (await notifier.notify(notification([big]))).ok
        assert (await notifier.notify(notification([big], resolved=1))).ok

    trigger, resolve = sent
    key = dedup_key('{}:{alertname="failed-logins"}')
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == key
    assert trigger["routing_key"] == "R0UT1NG"
    assert trigger["payload"]["severity"] == "critical"
    assert len(trigger["payload"]["summary"]) == MAX_SUMMARY
    assert resolve == {"event_action": "resolve", "dedup_key": key, "routing_key": "R0UT1NG"}


async def test_console_and_file_integrations(make_alert: AlertFactory, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleNotifier("c/console/0", console=Console(file=out, width=200))
    assert (await console.notify(notification([make_alert()]))).ok
    assert "FIRING · team · 1 firing, 0 resolved" in out.getvalue()
    path = tmp_path / "out" / "notifications.jsonl"
    notifier = FileNotifier("f/file/0", path)
    await notifier.notify(notification([make_alert()]))
    await notifier.notify(notification([make_alert()], resolved=1))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["firing", "resolved"]


class Scripted:
    """A notifier answering from a script of results, recording when it was called."""

    def __init__(self, results: list[SendResult], clock: Callable[[], float]) -> None:
        self.name = "team/webhook/0"
        self.send_resolved = True
        self.results = results
        self.calls: list[float] = []
        self.clock = clock

    async def notify(self, notification: Notification) -> SendResult:
        self.calls.append(self.clock())
        return self.results.pop(0) if self.results else SendResult.delivered()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


async def test_retry_after_is_honoured_then_delivered(make_alert: AlertFactory) -> None:
    time = FakeTime()
    notifier = Scripted(
        [
            SendResult.failed("HTTP 429", retryable=True, retry_after=7.0),
            SendResult.failed("HTTP 503", retryable=True),
        ],
        time.clock,
    )
    parked: list[ParkedGroupNotification] = []

    async def park(item: ParkedGroupNotification) -> None:
        parked.append(item)

    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=2.0, rng=random.Random(1))
    sender = IntegrationSender(notifier, policy, park, sleep=time.sleep)
    outcome = await sender.send(notification([make_alert()]))

    assert outcome.delivered and outcome.attempts == 3
    assert notifier.calls[1] - notifier.calls[0] == 7.0
    assert notifier.calls[2] - notifier.calls[1] <= 2.0
    assert parked == []


async def test_a_receiver_that_stays_down_gets_the_notification_parked_whole(
    make_alert: AlertFactory,
) -> None:
    time = FakeTime()
    notifier = Scripted([SendResult.failed("HTTP 502", retryable=True)] * 3, time.clock)
    parked: list[ParkedGroupNotification] = []

    async def park(item: ParkedGroupNotification) -> None:
        parked.append(item)

    sender = IntegrationSender(notifier, RetryPolicy(max_attempts=3, base_delay=0.1), park, sleep=time.sleep)
    original = notification([make_alert()])
    outcome = await sender.send(original)

    assert not outcome.delivered and outcome.parked
    (item,) = parked
    assert item.reason == "gave up after 3 attempts: HTTP 502" and item.retryable
    again = ParkedGroupNotification.from_json_bytes(item.to_json_bytes()).notification()
    assert again.id == original.id
    assert [s.alert for s in again.alerts] == [s.alert for s in original.alerts]
    assert again.status == "firing"


async def test_rate_limit_spaces_attempts(make_alert: AlertFactory) -> None:
    time = FakeTime()
    notifier = Scripted([], time.clock)

    async def park(item: ParkedGroupNotification) -> None:
        raise AssertionError("nothing should be parked")

    bucket = TokenBucket(1.0, 1, clock=time.clock, sleep=time.sleep)
    sender = IntegrationSender(notifier, RetryPolicy(), park, limiter=bucket, sleep=time.sleep)
    for _ in range(4):
        await sender.send(notification([make_alert()]))
    assert notifier.calls == [0.0, 1.0, 2.0, 3.0]


async def test_an_integration_that_raises_is_parked_not_retried(make_alert: AlertFactory) -> None:
    class Broken:
        name = "team/webhook/0"
        send_resolved = True

        async def notify(self, notification: Notification) -> SendResult:
            raise RuntimeError("token=abc boom")

    parked: list[ParkedGroupNotification] = []

    async def park(item: ParkedGroupNotification) -> None:
        parked.append(item)

    outcome = await IntegrationSender(Broken(), RetryPolicy(), park).send(notification([make_alert()]))
    assert outcome.attempts == 1 and outcome.parked
    assert parked[0].reason == "not retryable: integration raised RuntimeError: token=[REDACTED] boom"


async def test_concurrency_caps_requests_in_flight(make_alert: AlertFactory) -> None:
    class Slow:
        name = "team/webhook/0"
        send_resolved = True
        running = 0
        most = 0

        async def notify(self, notification: Notification) -> SendResult:
            Slow.running += 1
            Slow.most = max(Slow.most, Slow.running)
            await asyncio.sleep(0.01)
            Slow.running -= 1
            return SendResult.delivered()

    async def park(item: ParkedGroupNotification) -> None:
        raise AssertionError("nothing should be parked")

    sender = IntegrationSender(Slow(), RetryPolicy(), park, concurrency=2)
    await asyncio.gather(*(sender.send(notification([make_alert()])) for _ in range(10)))
    assert Slow.most == 2


def test_delivery_metrics_per_receiver_and_integration() -> None:
    from prometheus_client import REGISTRY

    from pipeline.notify import RouterMetrics

    def value(outcome: str) -> float:
        sample = REGISTRY.get_sample_value(
            "auditwatch_router_notifications_total",
            {"receiver": "metrics-test", "integration": "metrics-test/webhook/0", "outcome": outcome},
        )
        return sample or 0.0

    metrics = RouterMetrics()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    metrics.attempted("metrics-test/webhook/0", SendResult.failed("HTTP 503", retryable=True), 0.2)
    metrics.retrying("metrics-test/webhook/0", 1.0)
    metrics.attempted("metrics-test/webhook/0", SendResult.delivered(), 0.1)
    metrics.finished(
        "metrics-test/webhook/0", SendOutcome(False, 2, "gave up", True, start, start, parked=True)
    )
    assert [value(o) for o in ("sent", "failed", "retried", "parked")] == [1.0, 1.0, 1.0, 1.0]
    count = REGISTRY.get_sample_value(
        "auditwatch_router_notification_seconds_count",
        {"receiver": "metrics-test", "integration": "metrics-test/webhook/0"},
    )
    assert count == 2.0
