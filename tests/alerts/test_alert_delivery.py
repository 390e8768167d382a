"""The dispatcher: retries with backoff and Retry-After, parks what it cannot deliver."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from alerts.delivery import (
    DeliveryReport,
    Dispatcher,
    Outcome,
    ParkedNotification,
    RetryPolicy,
)
from alerts.errors import AlertConfigError, AlertDecodeError, ParkError
from alerts.model import Alert
from alerts.sinks import SendResult, WebhookSink
from detectors.findings import Severity

AlertFactory = Callable[..., Alert]
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
URL = "https://receiver.example.com/alerts"


class CeilingRandom(random.Random):
    """Jitter pinned to its upper bound, so backoff delays are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Recorder:
    """Stands in for asyncio.sleep and the park callback, recording every call."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.parked: list[ParkedNotification] = []

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def park(self, notification: ParkedNotification) -> None:
        self.parked.append(notification)


class ScriptedSink:
    """A sink that returns (or raises) the next scripted outcome on each attempt."""

    def __init__(
        self,
        name: str,
        script: list[SendResult | Exception],
        min_severity: Severity = Severity.INFO,
    ) -> None:
        self.name = name
        self.min_severity = min_severity
        self.script = script
        self.received: list[Alert] = []

    async def send(self, alert: Alert) -> SendResult:
        self.received.append(alert)
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _clock() -> Callable[[], datetime]:
    ticks: Iterator[datetime] = (
        datetime(2024, 5, 1, 10, 1, tzinfo=UTC) + timedelta(seconds=s) for s in range(1000)
    )
    return lambda: next(ticks)


def _policy(**overrides: Any) -> RetryPolicy:
    return RetryPolicy(rng=CeilingRandom(), **overrides)


def _webhook(client: httpx.AsyncClient) -> WebhookSink:
    return WebhookSink("webhook", URL, SECRET, client)


def _responses(*script: httpx.Response | Exception) -> httpx.MockTransport:
    """A transport answering each request with the next scripted response, or raising."""
    remaining = list(script)

    def handle(request: httpx.Request) -> httpx.Response:
        outcome = remaining.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return httpx.MockTransport(handle)


async def test_retries_then_succeeds_with_exponential_backoff(make_alert: AlertFactory) -> None:
    rec = Recorder()
    transport = _responses(httpx.Response(500), httpx.Response(500), httpx.Response(200))

    async with httpx.AsyncClient(transport=transport) as client:
        dispatcher = Dispatcher([_webhook(client)], _policy(), rec.park, rec.sleep)
        reports = await dispatcher.dispatch(make_alert())

    assert reports == [DeliveryReport("webhook", Outcome.DELIVERED, 3, "HTTP 200")]
    assert rec.delays == [0.5, 1.0]
    assert rec.parked == []


async def test_429_waits_for_retry_after(make_alert: AlertFactory) -> None:
    rec = Recorder()
    transport = _responses(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))

    async with httpx.AsyncClient(transport=transport) as client:
        dispatcher = Dispatcher([_webhook(client)], _policy(), rec.park, rec.sleep)
        (report,) = await dispatcher.dispatch(make_alert())

    assert report.delivered
    assert rec.delays == [7.0]


async def test_retry_after_is_capped(make_alert: AlertFactory) -> None:
    rec = Recorder()
    transport = _responses(
        httpx.Response(503, headers={"Retry-After": "86400"}), httpx.Response(200)
    )

    async with httpx.AsyncClient(transport=transport) as client:
        policy = _policy(max_retry_after=120)
        await Dispatcher([_webhook(client)], policy, rec.park, rec.sleep).dispatch(make_alert())

    assert rec.delays == [120.0]


async def test_non_retryable_400_parks_at_once(make_alert: AlertFactory) -> None:
    rec = Recorder()
    alert = make_alert()

    async with httpx.AsyncClient(transport=_responses(httpx.Response(400))) as client:
        dispatcher = Dispatcher([_webhook(client)], _policy(), rec.park, rec.sleep, clock=_clock())
        (report,) = await dispatcher.dispatch(alert)

    assert report.outcome is Outcome.PARKED
    assert report.attempts == 1
    assert rec.delays == []
    (parked,) = rec.parked
    assert parked.alert == alert
    assert parked.sink == "webhook"
    assert parked.reason == "not retryable: HTTP 400 Bad Request"
    assert parked.retryable is False
    assert parked.attempts == 1


async def test_network_error_is_retried(make_alert: AlertFactory) -> None:
    rec = Recorder()
    transport = _responses(httpx.ConnectError("connection refused"), httpx.Response(204))

    async with httpx.AsyncClient(transport=transport) as client:
        dispatcher = Dispatcher([_webhook(client)], _policy(), rec.park, rec.sleep)
        (report,) = await dispatcher.dispatch(make_alert())

    assert report.delivered
    assert report.attempts == 2
    assert rec.delays == [0.5]


async def test_all_attempts_failing_parks_exactly_once_with_the_reason(
    make_alert: AlertFactory,
) -> None:
    rec = Recorder()
    transport = _responses(*[httpx.Response(503, text="down for maintenance")] * 5)

    async with httpx.AsyncClient(transport=transport) as client:
        dispatcher = Dispatcher(
            [_webhook(client)], _policy(max_delay=3), rec.park, rec.sleep, clock=_clock()
        )
        (report,) = await dispatcher.dispatch(make_alert())

    assert report.outcome is Outcome.PARKED
    assert report.attempts == 5
    assert rec.delays == [0.5, 1.0, 2.0, 3.0]
    (parked,) = rec.parked
    assert parked.reason == (
        "gave up after 5 attempts: HTTP 503 Service Unavailable: down for maintenance"
    )
    assert parked.retryable is True
    assert parked.attempts == 5
    assert parked.first_attempt_at < parked.last_attempt_at


async def test_a_raising_sink_is_parked_and_the_others_still_deliver(
    make_alert: AlertFactory,
) -> None:
    rec = Recorder()
    broken = ScriptedSink("broken", [RuntimeError("bug in formatter password=hunter2")])
    healthy = ScriptedSink("healthy", [SendResult.delivered()])
    alert = make_alert()

    reports = await Dispatcher([broken, healthy], _policy(), rec.park, rec.sleep).dispatch(alert)

    assert [r.outcome for r in reports] == [Outcome.PARKED, Outcome.DELIVERED]
    assert healthy.received == [alert]
    (parked,) = rec.parked
    assert parked.sink == "broken"
    assert parked.reason.startswith("not retryable: sink raised RuntimeError: bug in formatter")
    assert "hunter2" not in parked.reason
    assert rec.delays == []


async def test_sinks_are_sent_to_concurrently(make_alert: AlertFactory) -> None:
    # The first sink can only finish once the second has been called.
    second_called = asyncio.Event()

    class WaitsForOther(ScriptedSink):
        async def send(self, alert: Alert) -> SendResult:
            await second_called.wait()
            return SendResult.delivered()

    class SignalsOther(ScriptedSink):
        async def send(self, alert: Alert) -> SendResult:
            second_called.set()
            return SendResult.delivered()

    rec = Recorder()
    dispatcher = Dispatcher(
        [WaitsForOther("slow", []), SignalsOther("fast", [])], _policy(), rec.park, rec.sleep
    )

    async with asyncio.timeout(2):
        reports = await dispatcher.dispatch(make_alert())

    assert all(report.delivered for report in reports)


async def test_min_severity_filters_per_sink(make_alert: AlertFactory) -> None:
    rec = Recorder()
    pager = ScriptedSink("pager", [SendResult.delivered()], min_severity=Severity.HIGH)
    log = ScriptedSink("log", [SendResult.delivered()] * 2, min_severity=Severity.LOW)
    dispatcher = Dispatcher([pager, log], _policy(), rec.park, rec.sleep)

    medium = await dispatcher.dispatch(make_alert(severity=Severity.MEDIUM))
    high = await dispatcher.dispatch(make_alert(severity=Severity.HIGH))
    info = await dispatcher.dispatch(make_alert(severity=Severity.INFO))

    assert [r.outcome for r in medium] == [Outcome.SKIPPED, Outcome.DELIVERED]
    assert medium[0].detail == "medium is below high"
    assert [r.outcome for r in high] == [Outcome.DELIVERED, Outcome.DELIVERED]
    assert [r.outcome for r in info] == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert [a.severity for a in pager.received] == [Severity.HIGH]
    assert [a.severity for a in log.received] == [Severity.MEDIUM, Severity.HIGH]
    assert rec.parked == []


async def test_a_failing_park_raises_after_the_other_sinks_finish(
    make_alert: AlertFactory,
) -> None:
    rec = Recorder()

    async def broken_park(notification: ParkedNotification) -> None:
        raise OSError("dead-letter topic unavailable")

    failing = ScriptedSink("failing", [SendResult.failed("HTTP 400", retryable=False)])
    healthy = ScriptedSink("healthy", [SendResult.delivered()])
    dispatcher = Dispatcher([failing, healthy], _policy(), broken_park, rec.sleep)

    with pytest.raises(ParkError, match=r"'failing' was neither delivered .* nor parked"):
        await dispatcher.dispatch(make_alert())
    assert len(healthy.received) == 1


def test_duplicate_sink_names_are_refused() -> None:
    rec = Recorder()
    sinks = [ScriptedSink("slack", []), ScriptedSink("slack", [])]

    with pytest.raises(AlertConfigError, match="slack is used more than once"):
        Dispatcher(sinks, RetryPolicy(), rec.park, rec.sleep)


def test_full_jitter_stays_under_the_growing_cap() -> None:
    policy = RetryPolicy(rng=random.Random(1234))
    delays = [policy.backoff(n) for n in range(1, 11) for _ in range(50)]
    caps = [min(30.0, 0.5 * 2 ** (n - 1)) for n in range(1, 11) for _ in range(50)]

    assert all(0.0 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    # Jitter is real: delays under one cap differ.
    assert len({round(d, 6) for d in delays[-50:]}) > 40
    assert max(delays[-50:]) > 15.0
    assert policy.backoff(10_000) <= 30.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_attempts": 0}, "at least 1"),
        ({"base_delay": -1}, "negative"),
        ({"factor": 0.5}, "at least 1"),
    ],
)
def test_bad_policy_is_a_config_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(AlertConfigError, match=message):
        RetryPolicy(**overrides)


def test_parked_notification_json_round_trip(make_alert: AlertFactory) -> None:
    moment = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)
    parked = ParkedNotification(
        alert=make_alert(),
        sink="slack",
        reason="gave up after 5 attempts: HTTP 503",
        retryable=True,
        attempts=5,
        first_attempt_at=moment,
        last_attempt_at=moment + timedelta(seconds=40),
    )
    document = json.loads(parked.to_json_bytes())

    assert ParkedNotification.from_json_bytes(parked.to_json_bytes()) == parked
    assert set(document) == {
        "alert",
        "sink",
        "reason",
        "retryable",
        "attempts",
        "first_attempt_at",
        "last_attempt_at",
    }
    assert document["alert"]["id"] == parked.alert.id
    assert document["last_attempt_at"] == "2024-05-01T10:01:40Z"
    with pytest.raises(AlertDecodeError, match="not a parked notification"):
        ParkedNotification.from_json_bytes(json.dumps({**document, "attempts": 0}))
