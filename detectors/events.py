"""The canonical audit event: the one shape every stage after ingest sees.

It is defined once, in ``auditwatch_sdk.schema``, so that producers (services
emitting events with the ``auditwatch-sdk`` distribution) and the worker share
one source. ``detectors`` re-exports it here because it is the detectors' input
contract; ``pipeline`` and ``alerts`` import it from here. The SDK's schema
module depends on pydantic only. Field names follow OCSF and the Elastic Common
Schema where they can (the mapping table is in the README).

A timestamp without a zone is ambiguous, so it is rejected unless the caller
passes the source's zone in the validation context::

    AuditEvent.model_validate(data, context={"default_timezone": "Europe/Berlin"})
"""

from __future__ import annotations

from auditwatch_sdk.schema import (
    SCHEMA_VERSION,
    Actor,
    ActorType,
    AuditEvent,
    Category,
    Origin,
    Outcome,
    Resource,
    Severity,
    Source,
    field_value,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "ActorType",
    "AuditEvent",
    "Category",
    "Origin",
    "Outcome",
    "Resource",
    "Severity",
    "Source",
    "field_value",
]
