"""ASGI middleware that emits one audit event per HTTP request (Starlette, FastAPI, any ASGI app).

The event says who (the principal resolver's answer), what (``METHOD /route/{template}``),
on what (the path parameters), how it went (the status code), and where from (client
IP, user agent), with the request id and the W3C trace ids:

=================  ==========================================================
event field        from
=================  ==========================================================
``actor``          ``principal(scope)``: an ``Actor``, an id, or None (anonymous)
``action``         ``GET /items/{item_id}``; ``GET <unmatched>`` when no route matched
``resource``       ``type``: the route's last literal segment; ``id``: the last path
                   parameter; every parameter in ``extra.http.path_params``
``outcome``        < 400 success, else failure
``category``       401 authentication, 403 authorization, else api_activity
``request_id``     the ``x-request-id`` header, or a new one; echoed in the response
``trace_id``       the current OpenTelemetry span, else the ``traceparent`` header
``source.ip``      the peer, or the first untrusted address of ``x-forwarded-for``
                   when the peer is a trusted proxy
=================  ==========================================================

Headers listed in ``record_headers`` go to ``extra.http.headers`` and query
parameters to ``extra.http.query``, with secret-looking ones redacted. The
middleware never fails a request: an error while building or queueing the event
is logged and counted in ``errors``.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from auditwatch_sdk.client import AuditClient
from auditwatch_sdk.redact import REDACTED, is_sensitive
from auditwatch_sdk.schema import Actor, AuditEvent
from auditwatch_sdk.trace import current_trace_context, parse_traceparent

__all__ = ["AuditMiddleware", "Principal", "client_ip"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Principal = Callable[[Scope], "Actor | str | Awaitable[Actor | str | None] | None"]

log = logging.getLogger("auditwatch_sdk")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AuditMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        client: AuditClient,
        *,
        principal: Principal | None = None,
        trusted_proxies: Iterable[str] = (),
        request_id_header: str = "x-request-id",
        record_headers: Iterable[str] = (),
        record_query: bool = True,
        skip_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.client = client
        self.principal = principal or default_principal
        self.trusted_proxies: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        )
        self.request_id_header = request_id_header.lower()
        self._request_id_raw = self.request_id_header.encode("latin-1")
        self.record_headers = frozenset(h.lower() for h in record_headers)
        self.record_query = record_query
        self.skip_paths = frozenset(skip_paths)
        self.errors = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.skip_paths:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        request_id = headers.get(self.request_id_header, "")
        if not _REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        raw_id = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *[(k, v) for k, v in message.get("headers", ()) if k.lower() != self._request_id_raw],
                    (self._request_id_raw, raw_id),
                ]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                event = await self._event(scope, headers, request_id, status, started)
                await self.client.enqueue_async(event)
            except Exception:
                self.errors += 1
                log.exception("auditwatch SDK: could not emit the audit event of a request")

    async def _event(
        self, scope: Scope, headers: dict[str, str], request_id: str, status: int, started: float
    ) -> AuditEvent:
        method = str(scope.get("method", "GET"))
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        params = {str(k): str(v) for k, v in (scope.get("path_params") or {}).items()}
        actor = self.principal(scope)
        if inspect.isawaitable(actor):
            actor = await actor
        context = current_trace_context() or parse_traceparent(headers.get("traceparent"))
        http: dict[str, Any] = {
            "method": method,
            "status_code": status,
            "route": template,
            "path": scope.get("path"),
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if params:
            http["path_params"] = params
        if self.record_query and scope.get("query_string"):
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            http["query"] = {k: REDACTED if is_sensitive(k) else v for k, v in query}
        if self.record_headers:
            http["headers"] = {
                k: REDACTED if is_sensitive(k) else v for k, v in headers.items() if k in self.record_headers
            }
        return self.client.build(
            actor if actor is not None else Actor(id="anonymous"),
            f"{method} {template}" if template else f"{method} <unmatched>",
            _resource(template, params),
            "success" if status < 400 else "failure",
            category=_category(status),
            reason=None if status < 400 else f"HTTP {status}",
            request_id=request_id,
            trace_id=context.trace_id if context else None,
            span_id=context.span_id if context else None,
            source={
                "ip": client_ip(scope, headers, self.trusted_proxies),
                "user_agent": headers.get("user-agent"),
            },
            http=http,
        )


def default_principal(scope: Scope) -> Actor | str | None:
    """``request.state.principal`` if the app set it, else Starlette's ``request.user``."""
    state = scope.get("state") or {}
    principal = state.get("principal")
    if isinstance(principal, Actor | str):
        return principal
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return Actor(id=str(getattr(user, "identity", None) or user.display_name), type="human")
    return None


def client_ip(scope: Scope, headers: dict[str, str], trusted: tuple[_Network, ...]) -> str | None:
    """The peer's address; when the peer is a trusted proxy, the right-most address of
    ``x-forwarded-for`` that is not itself trusted (addresses left of it are client-supplied)."""
    peer = (scope.get("client") or (None,))[0]
    address = _ip(peer)
    if address is None or not trusted or not _trusted(address, trusted):
        return str(address) if address is not None else None
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        hop_ip = _ip(hop)
        if hop_ip is None:
            break
        address = hop_ip
        if not _trusted(hop_ip, trusted):
            break
    return str(address)


def _ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: tuple[_Network, ...]) -> bool:
    return any(address in network for network in trusted)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _resource(template: str | None, params: dict[str, str]) -> dict[str, Any] | None:
    if not template:
        return None
    literals = [p for p in template.strip("/").split("/") if p and not p.startswith("{")]
    return {
        "type": literals[-1] if literals else None,
        "id": list(params.values())[-1] if params else None,
        "name": template,
    }


def _category(status: int) -> str:
    if status == 401:
        return "authentication"
    if status == 403:
        return "authorization"
    return "api_activity"
