"""W3C trace context: parse ``traceparent`` and read the current OpenTelemetry span.

OpenTelemetry is optional. When ``opentelemetry-api`` is installed and a span
is recording, its ids are used; otherwise ids come from the incoming
``traceparent`` header, or there are none.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["TraceContext", "current_trace_context", "parse_traceparent"]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The ids of a valid ``traceparent`` header, or None (invalid headers are ignored, per W3C)."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or match.group(1) == "ff":
        return None
    trace_id, span_id = match.group(2), match.group(3)
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id)


def _load_otel() -> Any:
    try:
        return importlib.import_module("opentelemetry.trace")
    except ImportError:
        return None


_otel: Any = _load_otel()


def current_trace_context() -> TraceContext | None:
    """The current OpenTelemetry span's ids, if OpenTelemetry is installed and a span is valid."""
    if _otel is None:
        return None
    context = _otel.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return TraceContext(f"{context.trace_id:032x}", f"{context.span_id:016x}")
