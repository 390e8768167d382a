"""The HTTP sinks: how responses are classified, and what the webhook sink sends."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from alerts.errors import SignatureError
from alerts.model import Alert
from alerts.signing import verify
from alerts.sinks import SendResult, WebhookSink, parse_retry_after, result_from_response
from alerts.sinks.base import post
from alerts.sinks.webhook import webhook_payload

AlertFactory = Callable[..., Alert]
Handler = Callable[[httpx.Request], httpx.Response]

URL = "https://hooks.example.com/T000/B000/s3cr3tPath"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = 1_714_557_600  # 2024-05-01T10:00:00Z


async def _post_to(handler: Handler) -> SendResult:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await post(client, URL, content=b"{}", headers={}, timeout=5)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_2xx_is_delivered(status: int) -> None:
    result = await _post_to(lambda request: httpx.Response(status))

    assert result.ok
    assert result.status_code == status


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (410, False),
        (301, False),
    ],
)
async def test_failures_say_whether_to_retry(status: int, retryable: bool) -> None:
    result = await _post_to(lambda request: httpx.Response(status, text="invalid_blocks"))

    assert not result.ok
    assert result.retryable is retryable
    assert result.detail.startswith(f"HTTP {status}")
    assert "invalid_blocks" in result.detail


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_read_on_429_and_503(status: int) -> None:
    result = await _post_to(lambda request: httpx.Response(status, headers={"Retry-After": "7"}))

    assert result.retry_after == 7.0


async def test_retry_after_is_ignored_on_other_statuses() -> None:
    result = await _post_to(lambda request: httpx.Response(500, headers={"Retry-After": "7"}))

    assert result.retry_after is None
    assert result.retryable


def test_retry_after_forms() -> None:
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)

    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:26:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None


def test_response_body_in_detail_is_redacted_and_short() -> None:
    response = httpx.Response(400, text="bad request token=abc123 " + "x" * 1000)

    result = result_from_response(response)

    assert "abc123" not in result.detail
    assert len(result.detail) < 300


@pytest.mark.parametrize(
    "error", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError]
)
async def test_network_errors_are_retryable_and_hide_the_url(
    error: type[httpx.TransportError],
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error(f"cannot reach {request.url}", request=request)

    result = await _post_to(fail)

    assert not result.ok
    assert result.retryable
    assert error.__name__ in result.detail
    assert "s3cr3tPath" not in result.detail


async def test_unsupported_scheme_is_not_retryable() -> None:
    async with httpx.AsyncClient() as client:
        result = await post(client, "ftp://example.com/x", content=b"", headers={}, timeout=1)

    assert not result.ok
    assert not result.retryable


async def test_webhook_sends_a_signed_versioned_payload(make_alert: AlertFactory) -> None:
    alert = make_alert()
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        sink = WebhookSink("soc", URL, SECRET, client, clock=lambda: NOW + 0.9)
        result = await sink.send(alert)

    assert result.ok
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == alert.id
    assert request.headers["webhook-timestamp"] == str(NOW)
    verify(SECRET, request.content, request.headers, now=NOW)
    payload = json.loads(request.content)
    assert payload["version"] == "1"
    assert payload["type"] == "alert"
    assert Alert.model_validate(payload["alert"]) == alert
    assert request.content == webhook_payload(alert)


async def test_webhook_signature_fails_for_another_secret(make_alert: AlertFactory) -> None:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        await WebhookSink("soc", URL, SECRET, client, clock=lambda: NOW).send(make_alert())

    with pytest.raises(SignatureError):
        verify(b"another key", seen[0].content, seen[0].headers, now=NOW)


async def test_each_attempt_is_signed_at_its_own_time(make_alert: AlertFactory) -> None:
    times = iter([NOW, NOW + 600])
    stamps: list[str] = []

    def receive(request: httpx.Request) -> httpx.Response:
        stamps.append(request.headers["webhook-timestamp"])
        verify(SECRET, request.content, request.headers, now=int(stamps[-1]))
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        sink = WebhookSink("soc", URL, SECRET, client, clock=lambda: next(times))
        await sink.send(make_alert())
        await sink.send(make_alert())

    assert stamps == [str(NOW), str(NOW + 600)]


async def test_webhook_repr_hides_url_and_secret() -> None:
    async with httpx.AsyncClient() as client:
        sink = WebhookSink("soc", URL, SECRET, client)

    assert "s3cr3tPath" not in repr(sink)
    assert SECRET not in repr(sink)
    assert "soc" in repr(sink)
