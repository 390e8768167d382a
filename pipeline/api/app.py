"""The HTTP API's app factory: routes, token auth, and an audit event for every call.

``create_api(backend, tokens, emit)`` returns a FastAPI app that tests drive
through ``httpx.ASGITransport`` with an in-memory :class:`ApiBackend`, and
that the worker serves under uvicorn (``pipeline.api.hosting``). The contract
(paths, roles, bodies) is issue 8's; ``/openapi.json`` documents it, and each
operation carries the least role it needs as ``x-auditwatch-role``.

Every call under ``/api/`` and to ``/metrics``, allowed or not, is turned into
an audit event (:mod:`pipeline.api.audit`), kept in the app's ring for
``GET /api/v1/audit`` and handed to ``emit`` (the worker sends it to its raw
topic). The dashboard page, its static files, the OpenAPI documents and
``/api/v1/livez`` are public; livez is not audited, since a probe every few
seconds would drown the API's real calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from detectors.events import AuditEvent
from pipeline.api.audit import AuditRing, api_event
from pipeline.api.auth import PRINCIPAL_KEY, Gate, Principal
from pipeline.api.backend import ApiBackend
from pipeline.api.errors import ApiError, TokenStoreError, TransitionError, UnknownAlertError
from pipeline.api.routes_alerts import alert_routes
from pipeline.api.routes_ops import ops_routes
from pipeline.api.tokens import TokenStore
from pipeline.errors import PipelineError

__all__ = ["STATIC_DIR", "Emit", "create_api"]

log = logging.getLogger("auditwatch.api")

Emit = Callable[[AuditEvent], Awaitable[None]]
Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]

STATIC_DIR = Path(__file__).with_name("static")
_UNAUDITED = ("/api/v1/livez",)


def _audited(path: str) -> bool:
    return (path.startswith("/api/") or path == "/metrics") and path not in _UNAUDITED


class _AuditCalls:
    """ASGI middleware: one audit event per audited call, after its response status is known."""

    def __init__(self, app: ASGI, record: Callable[[Scope, int], Awaitable[None]]) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _audited(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await self.record(scope, status)


def create_api(backend: ApiBackend, tokens: TokenStore, emit: Emit, anonymous: bool = False) -> FastAPI:
    """The API over ``backend``; see the module docstring."""
    app = FastAPI(
        docs_url=None,  # served by _docs, from the installed Swagger UI rather than a CDN
        title="auditwatch",
        version="1",
        summary="Alerts, silences, rules, trends, health, archive proofs and access review of a worker.",
    )
    app.state.gate = Gate(tokens, anonymous)
    app.state.backend = backend
    ring = AuditRing()
    app.state.audit_ring = ring

    async def record(scope: Scope, status: int) -> None:
        principal: Principal | None = scope.get(PRINCIPAL_KEY) or _caller(app.state.gate, scope)
        route = scope.get("route")
        operation = getattr(route, "name", None) or "unknown"
        client = scope.get("client")
        headers = dict(scope.get("headers") or [])
        try:
            event = api_event(
                operation,
                status=status,
                method=scope.get("method", ""),
                path=scope.get("path", ""),
                actor=principal.name if principal else None,
                role=principal.role.label if principal else None,
                token_id=principal.id if principal else None,
                client=client[0] if client else None,
                user_agent=headers.get(b"user-agent", b"").decode("latin-1") or None,
                path_params={k: str(v) for k, v in (scope.get("path_params") or {}).items()},
                at=backend.clock(),
            )
            ring.add(event)
            await emit(event)
        except Exception:  # the call has been answered; losing its audit event must be loud
            log.exception("could not emit the audit event of %s %s", scope.get("method"), scope.get("path"))

    app.add_middleware(_AuditCalls, record=record)

    @app.exception_handler(PipelineError)
    async def refused(request: Request, exc: PipelineError) -> JSONResponse:
        """The API's own errors, and Kafka not taking a change (a status, a silence: nothing
        changed, the caller may retry)."""
        return JSONResponse({"detail": str(exc)}, status_code=_status_of(exc))

    alert_routes(app)
    ops_routes(app)
    _dashboard(app)
    _docs(app)
    return app


def _status_of(exc: PipelineError) -> int:
    if isinstance(exc, UnknownAlertError):
        return 404
    if isinstance(exc, TransitionError):
        return 409
    return 400 if isinstance(exc, ApiError) else 503


def _caller(gate: Gate, scope: Scope) -> Principal | None:
    """Who sent a call that no route checked (an unknown path): attribution for its audit event."""
    headers = dict(scope.get("headers") or [])
    scheme, _, secret = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    try:
        info = gate.tokens.authenticate(secret.strip())
    except TokenStoreError:
        return None  # the route's own check has answered 503 and logged why
    return None if info is None else Principal(info.id, info.name, info.role)


def _dashboard(app: FastAPI) -> None:
    """Serve the dashboard (``pipeline/api/static``) at ``/`` when it is installed."""
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        return

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(index)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the swagger-ui-bundle package: FastAPI's own page
    loads it from a CDN, which a worker on a closed network cannot reach."""
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="auditwatch API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
