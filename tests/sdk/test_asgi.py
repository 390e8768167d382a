"""AuditMiddleware on a FastAPI app, driven in-process through httpx's ASGI transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request

from auditwatch_sdk import Actor, AuditClient, AuditMiddleware, MemoryTransport

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE}-b7ad6b7169203331-01"


def make_app(client: AuditClient, **options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/projects/{project}/items/{item_id}")
    async def item(project: str, item_id: int, request: Request) -> dict[str, str]:
        request.state.principal = Actor(id="alice", type="human")
        return {"ok": "yes"}

    @app.delete("/admin/{thing}")
    async def admin(thing: str) -> None:
        raise HTTPException(403, "forbidden")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler bug")

    app.add_middleware(AuditMiddleware, client=client, **options)
    return app


@pytest.fixture
async def setup() -> AsyncIterator[tuple[MemoryTransport, AuditClient]]:
    transport = MemoryTransport()
    client = AuditClient(transport, service="shop")
    yield transport, client
    await client.aclose()


async def events(client: AuditClient, transport: MemoryTransport) -> list[dict[str, Any]]:
    await client.aclose()
    return [json.loads(r) for r in transport.records]


async def call(app: FastAPI, method: str, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.0.0.5", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.request(method, url, **kwargs)


async def test_one_event_per_request_with_route_params_ids_and_trace(
    setup: tuple[MemoryTransport, AuditClient],
) -> None:
    transport, client = setup
    app = make_app(client)
    response = await call(
        app,
        "GET",
        "/projects/p1/items/42?q=x&api_key=s3cret",
        headers={"x-request-id": "req-1", "traceparent": PARENT, "user-agent": "pytest/1"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-1"
    (event,) = await events(client, transport)
    assert event["actor"] == {"id": "alice", "type": "human", "roles": []}
    assert event["action"] == "GET /projects/{project}/items/{item_id}"
    assert event["resource"] == {"type": "items", "id": "42", "name": "/projects/{project}/items/{item_id}"}
    assert event["outcome"] == "success"
    assert (event["request_id"], event["trace_id"], event["span_id"]) == ("req-1", TRACE, "b7ad6b7169203331")
    assert event["source"] == {"ip": "10.0.0.5", "user_agent": "pytest/1"}
    http = event["extra"]["http"]
    assert http["path_params"] == {"project": "p1", "item_id": "42"}
    assert http["query"] == {"q": "x", "api_key": "[REDACTED]"}
    assert http["status_code"] == 200


async def test_a_403_is_an_authorization_failure_and_a_request_id_is_created(
    setup: tuple[MemoryTransport, AuditClient],
) -> None:
    transport, client = setup
    app = make_app(client, principal=lambda scope: "mallory")
    response = await call(app, "DELETE", "/admin/db", headers={"x-request-id": "bad id with spaces"})
    assert response.status_code == 403
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    (event,) = await events(client, transport)
    assert (event["actor"]["id"], event["outcome"], event["category"]) == (
        "mallory",
        "failure",
        "authorization",
    )
    assert event["reason"] == "HTTP 403"
    assert event["request_id"] == request_id
    assert "trace_id" not in event


async def test_a_failing_handler_is_still_audited_and_unmatched_paths_are_not_templated(
    setup: tuple[MemoryTransport, AuditClient],
) -> None:
    transport, client = setup
    app = make_app(client)
    assert (await call(app, "GET", "/boom")).status_code == 500
    assert (await call(app, "GET", "/nowhere/123")).status_code == 404
    boom, missing = await events(client, transport)
    assert (boom["action"], boom["outcome"], boom["actor"]["id"]) == ("GET /boom", "failure", "anonymous")
    assert missing["action"] == "GET <unmatched>"
    assert missing["extra"]["http"]["path"] == "/nowhere/123"


async def test_client_ip_honours_only_trusted_proxies_and_headers_are_redacted(
    setup: tuple[MemoryTransport, AuditClient],
) -> None:
    transport, client = setup
    app = make_app(client, trusted_proxies=["10.0.0.0/8"], record_headers=["authorization", "x-tenant"])
    headers = {
        "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.1.1.1",
        "authorization": "Bearer t",
        "x-tenant": "t1",
    }
    await call(app, "GET", "/projects/p/items/1", headers=headers)
    untrusted = make_app(client, record_headers=["x-tenant"])
    await call(untrusted, "GET", "/projects/p/items/1", headers=headers)
    first, second = await events(client, transport)
    assert first["source"]["ip"] == "203.0.113.9"  # 1.2.3.4 was written by the client, not a proxy
    assert first["extra"]["http"]["headers"] == {"authorization": "[REDACTED]", "x-tenant": "t1"}
    assert second["source"]["ip"] == "10.0.0.5"


async def test_an_error_in_the_principal_resolver_never_fails_the_request(
    setup: tuple[MemoryTransport, AuditClient],
) -> None:
    transport, client = setup

    def broken(scope: Any) -> str:
        raise KeyError("user")

    app = make_app(client, principal=broken)
    assert (await call(app, "GET", "/projects/p/items/1")).status_code == 200
    middleware = app.middleware_stack
    while middleware is not None and not isinstance(middleware, AuditMiddleware):
        middleware = getattr(middleware, "app", None)
    assert middleware is not None and middleware.errors == 1
    assert await events(client, transport) == []
