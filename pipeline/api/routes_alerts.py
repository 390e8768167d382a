"""Alerts (list, get, acknowledge, resolve) and silences (list, create, expire).

A status change is written durably first (``backend.write_state``: the
worker's status topic) and applied to the book after, so an answer of 200
means every worker will see the change. Silences take Alertmanager v2 bodies,
exactly as the older ``/api/v2/silences`` endpoint (``pipeline.silence_api``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pipeline.api.alertbook import Status
from pipeline.api.auth import Principal, require
from pipeline.api.backend import ApiBackend
from pipeline.api.errors import UnknownAlertError
from pipeline.api.roles import Role
from pipeline.silence_api import parse_silence, silence_document

__all__ = ["alert_routes", "role_doc"]


def role_doc(role: Role) -> dict[str, Any]:
    """OpenAPI's record of the least role an operation needs."""
    return {"x-auditwatch-role": role.label}


def _backend(request: Request) -> ApiBackend:
    backend: ApiBackend = request.app.state.backend
    return backend


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str = Field(min_length=1, max_length=2000, description="why it is resolved; required")


def alert_routes(router: FastAPI) -> None:
    """Add the alert and silence operations to ``router`` (routes directly on the app, so
    that tests and the audit middleware see each one)."""
    viewer, responder = require(Role.VIEWER), require(Role.RESPONDER)

    @router.get("/api/v1/alerts", name="alerts.list", openapi_extra=role_doc(Role.VIEWER))
    async def list_alerts(
        request: Request,
        principal: Principal = viewer,
        status: Status | None = None,
        severity: Literal["info", "low", "medium", "high", "critical"] | None = None,
        rule: str | None = None,
        entity: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> dict[str, Any]:
        """Alerts newest first, filtered by status, severity, rule and entity."""
        found = _backend(request).book.select(
            status=status, severity=severity, rule=rule, entity=entity, limit=limit
        )
        return {"alerts": [entry.record() for entry in found]}

    @router.get("/api/v1/alerts/{alert_id}", name="alerts.get", openapi_extra=role_doc(Role.VIEWER))
    async def get_alert(alert_id: str, request: Request, principal: Principal = viewer) -> dict[str, Any]:
        entry = _backend(request).book.get(alert_id)
        if entry is None:
            raise UnknownAlertError(f"no alert {alert_id!r}")
        return entry.record()

    async def change(
        request: Request, alert_id: str, status: Status, principal: Principal, comment: str | None
    ) -> dict[str, Any]:
        backend = _backend(request)
        state = backend.book.change(alert_id, status, principal.name, comment, backend.clock())
        await backend.write_state(state)
        backend.book.apply(state)
        entry = backend.book.get(alert_id)
        assert entry is not None  # change() found it, and nothing awaits in between but the write
        return entry.record()

    @router.post("/api/v1/alerts/{alert_id}/ack", name="alerts.ack", openapi_extra=role_doc(Role.RESPONDER))
    async def ack(
        alert_id: str, request: Request, principal: Principal = responder, body: AckBody | None = None
    ) -> dict[str, Any]:
        """Acknowledge a firing alert: someone is on it."""
        return await change(request, alert_id, "acknowledged", principal, body.comment if body else None)

    @router.post(
        "/api/v1/alerts/{alert_id}/resolve", name="alerts.resolve", openapi_extra=role_doc(Role.RESPONDER)
    )
    async def resolve(
        alert_id: str, body: ResolveBody, request: Request, principal: Principal = responder
    ) -> dict[str, Any]:
        """Resolve a firing or acknowledged alert, saying why."""
        return await change(request, alert_id, "resolved", principal, body.comment)

    @router.get("/api/v1/silences", name="silences.list", openapi_extra=role_doc(Role.VIEWER))
    async def list_silences(request: Request, principal: Principal = viewer) -> dict[str, Any]:
        """Every silence, newest first, with its state (active, pending, expired)."""
        backend = _backend(request)
        moment = backend.clock()
        items = sorted(backend.silences.all(), key=lambda s: s.updated_at, reverse=True)
        return {"silences": [silence_document(s, moment) for s in items]}

    @router.post("/api/v1/silences", name="silences.create", openapi_extra=role_doc(Role.RESPONDER))
    async def create_silence(
        request: Request,
        principal: Principal = responder,
        body: dict[str, Any] = Body(
            description="An Alertmanager v2 silence: matchers, startsAt, endsAt, createdBy, comment"
        ),
    ) -> dict[str, Any]:
        backend = _backend(request)
        if not body.get("createdBy"):
            body = {**body, "createdBy": principal.name}
        try:
            silence = parse_silence(body, backend.clock())
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        await backend.write_silences([silence])
        backend.silences.put(silence)
        return {"silenceID": silence.id}

    @router.delete(
        "/api/v1/silences/{silence_id}", name="silences.expire", openapi_extra=role_doc(Role.RESPONDER)
    )
    async def expire_silence(
        silence_id: str, request: Request, principal: Principal = responder
    ) -> dict[str, Any]:
        """Expire a silence now; it stays listed, as expired."""
        backend = _backend(request)
        known = backend.silences.get(silence_id)
        if known is None:
            raise HTTPException(404, "no silence with that id")
        ended = known.expired(backend.clock())
        await backend.write_silences([ended])
        backend.silences.put(ended)
        return {"silenceID": ended.id, "status": {"state": ended.state(backend.clock())}}
