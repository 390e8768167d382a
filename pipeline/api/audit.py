"""Every API call as a canonical audit event, so auditwatch's own rules watch its API.

An allowed call and a denied one (401, 403) alike become one
:class:`~detectors.events.AuditEvent`:

============================  =================================================================
field                         value
============================  =================================================================
``action``                    ``auditwatch.api.<operation>`` (``auditwatch.api.alerts.ack``)
``actor.id``                  the token's name, or ``anonymous``
``actor.roles``               the token's role, when there is one
``actor.authenticated_as``    ``token:<id>``: which token was used
``outcome``                   ``success`` below 400, else ``failure``
``category``                  ``authentication`` for 401, ``authorization`` for 403, else
                              ``api_activity``
``source.ip``                 the client's address
``extra.http``                ``method``, ``path``, ``status``, ``path_params``
``extra.denied``              true for 401 and 403
============================  =================================================================

The worker sends them to its raw topic, where ingest validates them like any
source's events; :class:`AuditRing` keeps the last ones for ``GET /api/v1/audit``.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime

from detectors.events import Actor, ActorType, AuditEvent, Category, Origin, Outcome, Resource, Source

__all__ = ["ACTION_PREFIX", "ANONYMOUS", "AuditRing", "api_event"]

ANONYMOUS = "anonymous"
ACTION_PREFIX = "auditwatch.api."


def _category(status: int) -> Category:
    if status == 401:
        return Category.AUTHENTICATION
    if status == 403:
        return Category.AUTHORIZATION
    return Category.API_ACTIVITY


def _address(client: str | None) -> Source:
    if client is None:
        return Source()
    try:
        return Source(ip=ipaddress.ip_address(client))
    except ValueError:  # a test client's "testclient", a unix socket
        return Source(domain=client)


def api_event(
    operation: str,
    *,
    status: int,
    method: str,
    path: str,
    actor: str | None = None,
    role: str | None = None,
    token_id: str | None = None,
    client: str | None = None,
    user_agent: str | None = None,
    path_params: Mapping[str, str] | None = None,
    request_id: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """The audit event of one API call; see the module docstring for the mapping."""
    params = dict(path_params or {})
    source = _address(client)
    if user_agent:
        source = source.model_copy(update={"user_agent": user_agent[:512]})
    resource = None
    if params:
        kind = operation.split(".", 1)[0]
        resource = Resource(type=kind, id=next(iter(params.values())))
    return AuditEvent(
        event_id=f"api-{uuid.uuid4().hex}",
        time=at or datetime.now(UTC),
        actor=Actor(
            id=actor or ANONYMOUS,
            type=ActorType.UNKNOWN,  # a token may be a person's or a script's; its name does not say
            roles=(role,) if role else (),
            authenticated_as=f"token:{token_id}" if token_id else None,
        ),
        action=ACTION_PREFIX + operation,
        category=_category(status),
        resource=resource,
        outcome=Outcome.SUCCESS if status < 400 else Outcome.FAILURE,
        reason=None if status < 400 else f"HTTP {status}",
        source=source,
        origin=Origin(system="auditwatch", service="api"),
        request_id=request_id,
        extra={
            "http": {"method": method, "path": path, "status": status, "path_params": params},
            "denied": status in (401, 403),
        },
    )


class AuditRing:
    """The last ``size`` API audit events of this worker, newest first when read."""

    def __init__(self, size: int = 1000) -> None:
        self._events: deque[AuditEvent] = deque(maxlen=size)

    def add(self, event: AuditEvent) -> None:
        self._events.append(event)

    def newest(self, limit: int) -> list[AuditEvent]:
        return list(reversed(self._events))[:limit]

    def __len__(self) -> int:
        return len(self._events)
