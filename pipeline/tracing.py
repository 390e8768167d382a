"""OpenTelemetry spans for ingest, detection and delivery, when an OTLP endpoint is configured.

With ``tracing.otlp_endpoint`` null (and ``OTEL_EXPORTER_OTLP_ENDPOINT``
unset) :class:`Tracing` is disabled: :meth:`Tracing.span` hands back one shared
no-op context manager, so the per-event cost is a method call and a branch.

Enabled, it owns an SDK ``TracerProvider`` whose batch processor exports
spans over OTLP/HTTP (protobuf) to ``<endpoint>/v1/traces``. Each span is
parented on the event's W3C trace context (``trace_id``/``span_id``, which the
SDK and middleware put on events) when the event has one, so the pipeline's
spans join the trace of the request that caused the event. Span names:

``auditwatch.ingest``   one per accepted event (timed over the record's parse), or per rejected record
``auditwatch.detect``   the rules engine (and models) on one event
``auditwatch.deliver``  one notification or alert delivery, parented on the alert's trace

The worker installs its instance (:func:`install`) so that the delivery side,
built far from the stages, finds it with :func:`current`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from pipeline.config import TracingConfig

__all__ = [
    "DELIVER",
    "DETECT",
    "INGEST",
    "Tracing",
    "current",
    "delivering",
    "install",
    "parent_context",
    "traces_url",
]

INGEST = "auditwatch.ingest"
DETECT = "auditwatch.detect"
DELIVER = "auditwatch.deliver"

Attributes = Mapping[str, str | int | float | bool]

_NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a base endpoint, as the OpenTelemetry spec derives it."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def parent_context(trace_id: str | None, span_id: str | None) -> Any:
    """An OpenTelemetry context whose current span is the remote parent ``trace_id``/``span_id``.

    None when either id is missing or not valid hex: the span then starts a new trace.
    """
    if not trace_id or not span_id:
        return None
    try:
        context = SpanContext(
            trace_id=int(trace_id, 16),
            span_id=int(span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
    except ValueError:
        return None
    if not context.is_valid:
        return None
    return trace.set_span_in_context(NonRecordingSpan(context))


class Tracing:
    """Spans for the pipeline's stages; see the module docstring."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("auditwatch") if provider is not None else None

    @classmethod
    def disabled(cls) -> Tracing:
        return cls(None)

    @classmethod
    def exporting(cls, processor: SpanProcessor, service_name: str = "auditwatch") -> Tracing:
        """Spans handed to ``processor`` (tests pass an in-memory or simple processor)."""
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        provider.add_span_processor(processor)
        return cls(provider)

    @classmethod
    def from_config(cls, config: TracingConfig) -> Tracing:
        """Export over OTLP/HTTP when an endpoint is configured; otherwise disabled."""
        if not config.otlp_endpoint:
            return cls.disabled()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(config.otlp_endpoint), timeout=5)
        return cls.exporting(BatchSpanProcessor(exporter), config.service_name)

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(
        self,
        name: str,
        *,
        trace_id: str | None = None,
        span_id: str | None = None,
        attributes: Attributes | None = None,
    ) -> contextlib.AbstractContextManager[Any]:
        """A span as a context manager, child of ``trace_id``/``span_id`` when given; no-op if disabled.

        Inside it, OpenTelemetry's current span is this one, so outgoing
        ``traceparent`` headers name it.
        """
        if self._tracer is None:
            return _NO_SPAN
        return self._tracer.start_as_current_span(
            name, context=parent_context(trace_id, span_id), attributes=attributes
        )

    def record(
        self,
        name: str,
        *,
        start_ns: int,
        end_ns: int | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        attributes: Attributes | None = None,
        error: str | None = None,
    ) -> None:
        """A span that already happened (ingest learns the event's trace only after parsing it)."""
        if self._tracer is None:
            return
        span = self._tracer.start_span(
            name,
            context=parent_context(trace_id, span_id),
            attributes=attributes,
            start_time=start_ns,
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=end_ns if end_ns is not None else time.time_ns())

    def force_flush(self, timeout_millis: int = 5000) -> bool:
        return self.provider.force_flush(timeout_millis) if self.provider is not None else True

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


_current = Tracing.disabled()


def install(tracing: Tracing) -> None:
    """Make ``tracing`` the worker's instance (see :func:`current`)."""
    global _current
    _current = tracing


def current() -> Tracing:
    """The instance the worker installed; disabled until then."""
    return _current


@contextlib.contextmanager
def delivering(trace_id: str | None, span_id: str | None, **attributes: str) -> Iterator[None]:
    """A ``auditwatch.deliver`` span on the installed instance (no-op when disabled)."""
    with current().span(DELIVER, trace_id=trace_id, span_id=span_id, attributes=attributes):
        yield
