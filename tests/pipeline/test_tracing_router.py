"""The router's delivery tasks run each notification in a delivery span parented on the alert's trace."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from alerts.delivery import RetryPolicy
from alerts.integrations.delivery import IntegrationSender, ParkedGroupNotification
from alerts.integrations.webhook import WebhookNotifier
from alerts.router.dispatch import DeliveryJob
from alerts.router.messages import DeliveryResult
from auditwatch_sdk.trace import TraceContext, parse_traceparent
from pipeline.router_runtime import Deliverer
from pipeline.tracing import DELIVER, Tracing, install
from tests.pipeline.test_tracing import SECRET, SPAN, TRACE, Capture, alert, notification


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    install(Tracing.exporting(SimpleSpanProcessor(exporter)))
    yield exporter
    install(Tracing.disabled())


async def test_each_router_delivery_is_a_span_in_the_alerts_trace_and_names_itself_to_the_receiver(
    spans: InMemorySpanExporter,
) -> None:
    capture, results = Capture(), []

    async def report(result: DeliveryResult) -> None:
        results.append(result)

    async def park(parked: ParkedGroupNotification) -> None:
        raise AssertionError("nothing should be parked")

    async with capture.client() as client:
        notifier = WebhookNotifier("team/webhook/0", "https://receiver.example/hook", SECRET, client)
        sender = IntegrationSender(notifier, RetryPolicy(max_attempts=1), park)
        deliverer = Deliverer({"team/webhook/0": sender}, report)
        group = notification([alert(None, rule="a"), alert(TraceContext(TRACE, SPAN), rule="b")])
        assert deliverer.submit(DeliveryJob(group, "team/webhook/0", partition=0))
        for _ in range(100):
            if results:
                break
            await asyncio.sleep(0.01)
        await deliverer.close()

    assert [r.outcome for r in results] == ["delivered"]
    (span,) = spans.get_finished_spans()
    assert span.name == DELIVER
    assert span.parent is not None and f"{span.parent.span_id:016x}" == SPAN
    assert f"{span.context.trace_id:032x}" == TRACE
    assert span.attributes == {
        "auditwatch.integration": "team/webhook/0",
        "auditwatch.notification_id": "ntf_1",
    }
    header = parse_traceparent(capture.requests[0].headers["traceparent"])
    assert header == TraceContext(TRACE, f"{span.context.span_id:016x}")
