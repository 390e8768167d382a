"""Ingest: one raw record in, canonical events or a dead letter out.

``accept_record`` is the pure function behind both the Kafka ingest agent and
``auditwatch replay``. It never raises for bad input: every record ends either
as events or as a ``Rejection`` with a reason, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.events import AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext, FormatRegistry

__all__ = ["DEFAULT_MAX_RECORD_BYTES", "Accepted", "Rejection", "accept_record", "partition_key"]

DEFAULT_MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Accepted:
    events: list[AuditEvent]


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None = None


def accept_record(
    payload: bytes | None,
    registry: FormatRegistry,
    ctx: FormatContext,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Accepted | Rejection:
    """Validate and normalise one raw record."""
    if payload is None or not payload.strip():
        return Rejection("empty record")
    if len(payload) > max_record_bytes:
        return Rejection(
            f"record is {len(payload)} bytes, over the {max_record_bytes}-byte limit "
            "(raise ingest.max_record_bytes if such records are expected)"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = payload[exc.start : exc.start + 1].hex()
        return Rejection(f"not valid UTF-8: byte 0x{bad} at offset {exc.start} ({exc.reason})")
    try:
        events = registry.to_events(text, ctx)
    except RecordRejected as exc:
        return Rejection(exc.reason, exc.field)
    except Exception as exc:
        # An adapter bug or an input it did not foresee: reject the record, keep the worker.
        return Rejection(f"could not be normalised: {type(exc).__name__}: {exc}")
    return Accepted(events)


def partition_key(event: AuditEvent) -> bytes:
    """Key for ``audit.events``: one tenant's actor always lands in one partition."""
    return f"{event.tenant_id}/{event.actor.id}".encode()
