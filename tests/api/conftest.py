"""An API over in-memory stores, driven through httpx's ASGI transport, with one token per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from alerts.model import Alert
from detectors.events import AuditEvent
from pipeline.api import ApiBackend, TokenStore, create_api

CLIENT_IP = "203.0.113.7"


def sample_alert(number: int = 1, *, rule: str = "failed_login_burst", severity: str = "high") -> Alert:
    fired = datetime(2026, 11, 28, 9, 30, tzinfo=UTC) + timedelta(minutes=number)
    return Alert(
        id=f"{number:032x}",
        rule_id=rule,
        severity=severity,
        title=f"burst {number}",
        summary="5 failed logins",
        entity=f"actor.id=user{number}",
        group={"actor.id": f"user{number}"},
        count=5,
        first_seen=fired - timedelta(seconds=40),
        last_seen=fired,
        window_start=fired - timedelta(seconds=60),
        window_end=fired,
    )


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    backend: ApiBackend
    tokens: TokenStore
    secrets: dict[str, str]
    emitted: list[AuditEvent] = field(default_factory=list)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}


async def make_api(*, anonymous: bool = False) -> tuple[Api, httpx.AsyncClient]:
    tokens = TokenStore()
    secrets = {role: tokens.create(f"{role}-1", role)[1] for role in ("viewer", "responder", "admin")}
    emitted: list[AuditEvent] = []

    async def emit(event: AuditEvent) -> None:
        emitted.append(event)

    async def review(since: str) -> dict[str, Any]:
        if not since.endswith("d"):
            raise ValueError("since: give days, as 90d")
        return {"since": since, "principals": []}

    backend = ApiBackend(clock=lambda: datetime(2026, 11, 28, 10, 0, tzinfo=UTC), access_review=review)
    app = create_api(backend, tokens, emit, anonymous=anonymous)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    client = httpx.AsyncClient(transport=transport, base_url="http://api.test")
    return Api(app, client, backend, tokens, secrets, emitted), client


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    made, client = await make_api()
    async with client:
        yield made
