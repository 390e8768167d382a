"""Dead letters: a rejected record with its original bytes and why it was rejected.

The same shape goes to the ``audit.dlq`` topic and to replay's ``--dead-letter``
file, so a record can be inspected, fixed and re-sent by the same tools.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeadLetter"]


class DeadLetter(BaseModel):
    """One record that could not be accepted."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    field: str | None = None
    original_base64: str = Field(description="the record's exact bytes, base64-encoded")
    original_preview: str = Field(description="the first bytes as text, for a human reader")
    size: int
    source_topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    file: str | None = None
    line: int | None = None
    dead_lettered_at: datetime

    @classmethod
    def of(
        cls,
        payload: bytes | None,
        reason: str,
        field: str | None = None,
        *,
        source_topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        file: str | None = None,
        line: int | None = None,
        now: datetime | None = None,
    ) -> DeadLetter:
        data = payload or b""
        return cls(
            reason=reason,
            field=field,
            original_base64=base64.b64encode(data).decode("ascii"),
            original_preview=data[:200].decode("utf-8", errors="replace"),
            size=len(data),
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            file=file,
            line=line,
            dead_lettered_at=now or datetime.now(UTC),
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_base64)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()
