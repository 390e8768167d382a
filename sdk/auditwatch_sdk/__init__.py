"""auditwatch-sdk: emit canonical audit events to auditwatch.

- ``AuditClient``: ``await client.emit(actor, action, resource, outcome, **extra)``
  or ``client.emit_sync(...)``; validated before queueing, delivered in batches.
- ``AuditMiddleware``: one event per HTTP request for any ASGI app.
- ``AuditLogHandler``: log records marked ``extra={"audit": {...}}`` become events.
- The canonical schema (``AuditEvent``, ``SCHEMA_VERSION``, ``json_schema()``),
  shared with the auditwatch worker.

Importing the package needs pydantic only; aiokafka is loaded when a Kafka
client starts, and OpenTelemetry is used when it is installed.
"""

from __future__ import annotations

from auditwatch_sdk.asgi import AuditMiddleware
from auditwatch_sdk.buffer import Overflow
from auditwatch_sdk.client import AuditClient, ClientStats
from auditwatch_sdk.errors import InvalidEvent, SdkError, TransportError
from auditwatch_sdk.logging_handler import AuditLogHandler
from auditwatch_sdk.schema import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    SUPPORTED_VERSIONS,
    Actor,
    ActorType,
    AuditEvent,
    Category,
    Origin,
    Outcome,
    Resource,
    Severity,
    Source,
    json_schema,
    upgrade,
)
from auditwatch_sdk.trace import TraceContext, parse_traceparent
from auditwatch_sdk.transport import KafkaTransport, MemoryTransport, Transport

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "Actor",
    "ActorType",
    "AuditClient",
    "AuditEvent",
    "AuditLogHandler",
    "AuditMiddleware",
    "Category",
    "ClientStats",
    "InvalidEvent",
    "KafkaTransport",
    "MemoryTransport",
    "Origin",
    "Outcome",
    "Overflow",
    "Resource",
    "SdkError",
    "Severity",
    "Source",
    "TraceContext",
    "Transport",
    "TransportError",
    "json_schema",
    "parse_traceparent",
    "upgrade",
]
