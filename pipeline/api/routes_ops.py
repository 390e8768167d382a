"""Everything but alerts and silences: who am I, rules, trends, health, archive, access review,
the API's own audit events, tokens, Prometheus metrics and the liveness probe."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, ConfigDict

from pipeline.api.archive_view import ArchiveView, NotArchived
from pipeline.api.audit import AuditRing
from pipeline.api.auth import Gate, Principal, require
from pipeline.api.backend import ApiBackend
from pipeline.api.roles import Role
from pipeline.api.routes_alerts import role_doc
from pipeline.api.views import health_view, rules_view, trends_view

__all__ = ["ops_routes"]


def _backend(request: Request) -> ApiBackend:
    backend: ApiBackend = request.app.state.backend
    return backend


def _archive(request: Request) -> ArchiveView:
    archive = _backend(request).archive
    if archive is None:
        raise HTTPException(409, "the archive is disabled in this worker's config (archive.enabled)")
    return archive


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    name: str


def ops_routes(router: FastAPI) -> None:
    """Add these operations to ``router`` (the app itself)."""
    viewer, admin = require(Role.VIEWER), require(Role.ADMIN)
    v1 = "/api/v1"

    @router.get(f"{v1}/livez", name="livez")
    async def livez() -> dict[str, str]:
        """Public liveness probe: the worker's event loop answers."""
        return {"status": "ok"}

    @router.get(f"{v1}/whoami", name="whoami", openapi_extra=role_doc(Role.VIEWER))
    async def whoami(principal: Principal = viewer) -> dict[str, str | None]:
        return principal.public()

    @router.get(f"{v1}/rules", name="rules.list", openapi_extra=role_doc(Role.VIEWER))
    async def rules(request: Request, principal: Principal = viewer) -> dict[str, Any]:
        """The rules in force, with matches and alerts since the worker started."""
        return {"rules": rules_view(_backend(request).ruleset())}

    @router.get(f"{v1}/trends", name="trends", openapi_extra=role_doc(Role.VIEWER))
    async def trends(
        request: Request, principal: Principal = viewer, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24
    ) -> dict[str, Any]:
        """Alerts per hour by severity and rule, events per source, the entities with most alerts."""
        backend = _backend(request)
        return trends_view(backend.book, hours, backend.clock())

    @router.get(f"{v1}/health", name="health", openapi_extra=role_doc(Role.VIEWER))
    async def health(request: Request, principal: Principal = viewer) -> dict[str, Any]:
        """Consumer lag and stalls per partition, throughput, dead letters, parked notifications."""
        backend = _backend(request)
        checkpoint = None
        if backend.archive is not None:
            checkpoint = await asyncio.to_thread(backend.archive.latest)
        return health_view(backend.rate, checkpoint, events_topic=backend.events_topic)

    @router.get(f"{v1}/archive/checkpoints", name="archive.checkpoints", openapi_extra=role_doc(Role.VIEWER))
    async def checkpoints(
        request: Request, principal: Principal = viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """The archive's signed checkpoints, newest first."""
        archive = _archive(request)
        return {"checkpoints": await asyncio.to_thread(archive.checkpoints, limit)}

    @router.get(f"{v1}/archive/proof/{{event_id}}", name="archive.proof", openapi_extra=role_doc(Role.VIEWER))
    async def proof(event_id: str, request: Request, principal: Principal = viewer) -> dict[str, Any]:
        """An inclusion proof of an event or alert against the latest checkpoint."""
        archive = _archive(request)
        try:
            return await asyncio.to_thread(archive.proof, event_id)
        except NotArchived as exc:
            raise HTTPException(404, str(exc)) from None

    @router.get(f"{v1}/access/review", name="access.review", openapi_extra=role_doc(Role.VIEWER))
    async def access_review(request: Request, principal: Principal = viewer, since: str = "90d") -> Any:
        """Actions each principal used in the window, denied attempts, unused grants."""
        review = _backend(request).access_review
        if review is None:
            raise HTTPException(409, "the access review reads the archive: enable it (archive.enabled)")
        try:
            return await review(since)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    @router.get(f"{v1}/audit", name="audit.list", openapi_extra=role_doc(Role.VIEWER))
    async def audit(
        request: Request, principal: Principal = viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """This worker's last API calls as audit events, newest first."""
        ring: AuditRing = request.app.state.audit_ring
        return {"events": [event.model_dump(mode="json") for event in ring.newest(limit)]}

    @router.get(f"{v1}/tokens", name="tokens.list", openapi_extra=role_doc(Role.ADMIN))
    async def list_tokens(request: Request, principal: Principal = admin) -> dict[str, Any]:
        """The tokens, without secrets or hashes."""
        gate: Gate = request.app.state.gate
        return {"tokens": [info.public() for info in gate.tokens.list()]}

    @router.post(f"{v1}/tokens", name="tokens.create", openapi_extra=role_doc(Role.ADMIN))
    async def create_token(body: NewToken, request: Request, principal: Principal = admin) -> dict[str, Any]:
        """A new token; its secret is in this answer and nowhere else."""
        gate: Gate = request.app.state.gate
        info, secret = gate.tokens.create(body.name, body.role)
        return {"id": info.id, "name": info.name, "role": info.role.label, "token": secret}

    @router.delete(f"{v1}/tokens/{{token_id}}", name="tokens.revoke", openapi_extra=role_doc(Role.ADMIN))
    async def revoke_token(token_id: str, request: Request, principal: Principal = admin) -> dict[str, Any]:
        gate: Gate = request.app.state.gate
        revoked = gate.tokens.revoke(token_id)
        if revoked is None:
            raise HTTPException(404, "no token with that id")
        return {"revoked": revoked.public()}

    @router.get("/metrics", name="metrics", openapi_extra=role_doc(Role.VIEWER))
    async def metrics(principal: Principal = viewer) -> Response:
        """Prometheus text exposition of the worker's metrics."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
