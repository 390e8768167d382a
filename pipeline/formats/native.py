"""auditwatch's own canonical JSON, as produced by the SDK or by other workers."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from detectors.events import AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["NativeAdapter", "describe_validation_error"]

_MARKERS = ("event_id", "action", "actor")


class NativeAdapter:
    """A record already in the canonical schema. Detected by its canonical keys."""

    name = "auditwatch"

    def detect(self, record: DecodedRecord) -> bool:
        if not isinstance(record, dict):
            return False
        if "schema_version" in record:
            return True
        return sum(key in record for key in _MARKERS) >= 2

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("a canonical auditwatch event must be a JSON object")
        data: dict[str, Any] = record
        if data.get("ingested_time") is None:
            data = {**data, "ingested_time": ctx.now()}
        try:
            return [AuditEvent.model_validate(data, context=ctx.validation_context())]
        except ValidationError as exc:
            field, reason = describe_validation_error(exc)
            raise RecordRejected(reason, field) from None


def describe_validation_error(exc: ValidationError, limit: int = 5) -> tuple[str | None, str]:
    """The first failing field path, and a one-line reason listing up to ``limit`` errors."""
    errors = exc.errors(include_url=False)
    parts = []
    for error in errors[:limit]:
        path = ".".join(str(p) for p in error["loc"]) or "(record)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "required field is missing"
        parts.append(f"{path}: {message}")
    more = len(errors) - limit
    if more > 0:
        parts.append(f"... and {more} more")
    first = ".".join(str(p) for p in errors[0]["loc"]) if errors else None
    return first or None, "; ".join(parts)
