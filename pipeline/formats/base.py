"""The contract between ingest and the per-format adapters.

An adapter turns one decoded record (a JSON object, or a text line for
line-oriented formats such as syslog) into zero or more canonical events, or
raises ``RecordRejected`` with a precise reason. Adapters are pure apart from
small, bounded state they may keep to deduplicate (each pipeline builds its own
registry, so that state is per worker).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from detectors.events import AuditEvent

__all__ = ["DecodedRecord", "FormatAdapter", "FormatContext", "utc_now"]

DecodedRecord = dict[str, Any] | str
"""A JSON object, or one line of text."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FormatContext:
    """What an adapter may need beyond the record itself."""

    default_timezone: str | None = None
    """Zone of sources whose timestamps carry none (syslog); None rejects such times."""
    default_year: int | None = None
    """Year for syslog timestamps, which carry none; None means the current year."""
    pinned_format: str | None = None
    """A format name to use instead of detection (per topic or per file)."""
    source_name: str | None = None
    """The topic or file the record came from, for context in events and errors."""
    now: Callable[[], datetime] = field(default=utc_now)

    def validation_context(self) -> dict[str, Any]:
        return {"default_timezone": self.default_timezone}


class FormatAdapter(Protocol):
    """One input format."""

    name: str

    def detect(self, record: DecodedRecord) -> bool:
        """True when the record is of this format. Must be cheap and never raise."""
        ...

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        """Canonical events for the record, or ``RecordRejected``."""
        ...
