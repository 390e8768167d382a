"""End to end over real HTTP on 127.0.0.1: a receiver that fails once, then verifies."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web

from alerts.config import AlertsConfig, WebhookSinkConfig, build_dispatcher
from alerts.delivery import Outcome, ParkedNotification
from alerts.model import Alert
from alerts.signing import verify

AlertFactory = Callable[..., Alert]
SECRET = "whsec_" + base64.b64encode(b"integration-test-key-32-bytes!!!").decode()


@dataclass
class Receiver:
    """What the receiver saw: each request's headers and raw body."""

    url: str
    requests: list[tuple[Mapping[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """An aiohttp server on an ephemeral port that answers 503 once, then 200."""
    seen = Receiver(url="")

    async def handle(request: web.Request) -> web.Response:
        # aiohttp's own (case-insensitive) headers, as a receiver would pass them to verify.
        seen.requests.append((request.headers.copy(), await request.read()))
        if len(seen.requests) == 1:
            return web.Response(status=503, headers={"Retry-After": "1"}, text="warming up")
        return web.Response(status=200, text="ok")

    app = web.Application()
    app.router.add_post("/hooks/alerts", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    seen.url = f"http://{host}:{port}/hooks/alerts"
    try:
        yield seen
    finally:
        await runner.cleanup()


async def test_webhook_retries_a_503_and_the_receiver_verifies_the_signature(
    receiver: Receiver, make_alert: AlertFactory
) -> None:
    config = AlertsConfig(sinks=[WebhookSinkConfig(name="soar", timeout=5)])
    env = {"AUDITWATCH_WEBHOOK_URL": receiver.url, "AUDITWATCH_WEBHOOK_SECRET": SECRET}
    delays: list[float] = []
    parked: list[ParkedNotification] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async def park(notification: ParkedNotification) -> None:
        parked.append(notification)

    alert = make_alert()
    async with httpx.AsyncClient() as client:
        dispatcher = build_dispatcher(config, client, env, park, sleep=sleep)
        (report,) = await dispatcher.dispatch(alert)

    assert report.outcome is Outcome.DELIVERED
    assert report.attempts == 2
    assert delays == [1.0]
    assert parked == []
    assert len(receiver.requests) == 2
    (_, first_body), (headers, body) = receiver.requests
    # What the receiver does: verify the raw body, then deduplicate on webhook-id.
    verify(SECRET, body, headers)
    assert headers["Webhook-Id"] == alert.id
    assert receiver.requests[0][0]["webhook-id"] == alert.id
    assert first_body == body
    payload = json.loads(body)
    assert payload["version"] == "1"
    assert Alert.model_validate(payload["alert"]) == alert
