"""Trace context through a real worker: event -> alert -> signed webhook, and spans over OTLP/HTTP.

The worker runs with the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a
real OTLP/HTTP receiver on 127.0.0.1. Five failed logins fire the shipped
``failed_login_burst`` rule; the fifth, which completes it, carries W3C trace
ids. The webhook receiver must get a ``traceparent`` in that trace, and the
OTLP receiver the worker's ingest, detect and deliver spans in it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from auditwatch_sdk.trace import parse_traceparent
from tests.integration.conftest import Receiver, Topics, Worker, produce
from tests.pipeline.test_tracing import OtlpReceiver, otlp  # noqa: F401  (a fixture)

START = 1_767_225_600  # 2026-01-01T00:00:00Z
TRACE, SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


def failed_login(second: int, traced: bool) -> bytes:
    event = {
        "event_id": f"trace-test-{second}",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + second)),
        "actor": {"id": "mallory", "type": "human"},
        "action": "login",
        "category": "authentication",
        "outcome": "failure",
        "source": {"ip": "203.0.113.9"},
        "origin": {"system": "acme.sso"},
    }
    if traced:
        event.update(trace_id=TRACE, span_id=SPAN)
    return json.dumps(event).encode()


def test_trace_context_flows_from_event_to_webhook_and_spans_reach_the_collector(
    make_worker: Callable[..., Worker],
    topics: Topics,
    receiver: Receiver,
    kafka_bootstrap: str,
    otlp: OtlpReceiver,  # noqa: F811
) -> None:
    worker = make_worker(OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url)
    worker.start()
    logins = [failed_login(s, traced=s == 20) for s in (0, 5, 10, 15, 20)]
    produce(kafka_bootstrap, topics.raw, logins, key=b"mallory")  # one partition: the traced one is last

    requests = receiver.wait_for(1)
    assert requests, f"no alert reached the receiver\n{worker.log()[-4000:]}"
    alert = json.loads(requests[0].body)["alert"]
    assert alert["rule_id"] == "failed_login_burst"
    assert (alert["trace_id"], alert["span_id"]) == (TRACE, SPAN)
    header = parse_traceparent(requests[0].headers.get("traceparent"))
    assert header is not None and header.trace_id == TRACE

    deadline = time.monotonic() + 60
    names: set[str] = set()
    while time.monotonic() < deadline and names != {
        "auditwatch.ingest",
        "auditwatch.detect",
        "auditwatch.deliver",
    }:
        names = {s.name for s in otlp.spans if s.trace_id == TRACE}
        time.sleep(0.5)
    traced = [s for s in otlp.spans if s.trace_id == TRACE]
    assert {s.name for s in traced} == {"auditwatch.ingest", "auditwatch.detect", "auditwatch.deliver"}, (
        f"spans in the event's trace: {traced}\n{worker.log()[-3000:]}"
    )
    assert all(s.parent_span_id == SPAN and s.service == "auditwatch" for s in traced)
    (deliver,) = [s for s in traced if s.name == "auditwatch.deliver"]
    assert header.span_id == deliver.span_id  # the receiver is the delivery span's child
    # The four untraced logins were traced too, each in a trace of its own.
    assert len({s.trace_id for s in otlp.spans if s.name == "auditwatch.ingest"}) == 5
    worker.stop()
