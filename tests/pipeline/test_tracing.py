"""W3C trace context from the event to the alert and the notification; OpenTelemetry spans over OTLP.

The spans go to a real OTLP/HTTP receiver on 127.0.0.1, which decodes each
``ExportTraceServiceRequest`` with opentelemetry-proto, as a collector would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from alerts.integrations.webhook import WebhookNotifier
from alerts.model import Alert, build_alert
from alerts.notification import AlertState, Notification, routing_labels
from alerts.sinks.webhook import WebhookSink
from auditwatch_sdk.trace import TraceContext, parse_traceparent
from detectors.engine import RuleEngine
from detectors.findings import Finding, Severity
from detectors.rules import load_ruleset
from pipeline.config import TracingConfig, load_config
from pipeline.ingest import Accepted
from pipeline.stages import Stages
from pipeline.tracing import (
    DELIVER,
    DETECT,
    INGEST,
    Tracing,
    current,
    delivering,
    install,
    parent_context,
    traces_url,
)

TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RULE = """\
title: Probe
name: probe
logsource: {product: acme}
detection: {sel: {action: probe}, condition: sel}
level: high
"""
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    error: bool
    service: str


@dataclass
class OtlpReceiver:
    url: str
    spans: list[ReceivedSpan] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.spans) < count:
            time.sleep(0.05)
        return list(self.spans)


def decode(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    found = []
    for resource_spans in request.resource_spans:
        resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                found.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes={a.key: a.value.string_value for a in span.attributes},
                        error=span.status.code == 2,  # STATUS_CODE_ERROR
                        service=resource.get("service.name", ""),
                    )
                )
    return found


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    state = OtlpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.paths.append(self.path)
            state.spans.extend(decode(body))
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def rules(tmp_path: Path) -> RuleEngine:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "probe.yml").write_text(RULE)
    return RuleEngine(load_ruleset([tmp_path / "rules"]))


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    current().shutdown()
    install(Tracing.disabled())


def record(action: str = "probe", n: int = 1, **extra: Any) -> bytes:
    return json.dumps(
        {
            "event_id": f"{action}-{n}",
            "time": "2026-01-01T00:00:00Z",
            "actor": {"id": "alice"},
            "action": action,
            "origin": {"system": "acme.app"},
            **extra,
        }
    ).encode()


class Capture:
    """An httpx transport that answers 200 and keeps each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def alert(trace: TraceContext | None, rule: str = "probe") -> Alert:
    finding = Finding(
        rule_id=rule,
        rule_title="Probe",
        severity=Severity.HIGH,
        group={"actor.id": "alice"},
        count=1,
        window_start=T0,
        window_end=T0,
        first_seen=T0,
        last_seen=T0,
        event_ids=("probe-1",),
    )
    return build_alert(finding, trace=trace)


def notification(alerts: list[Alert]) -> Notification:
    states = tuple(
        AlertState(a, routing_labels(a), a.first_seen, T0 + timedelta(minutes=5), T0) for a in alerts
    )
    return Notification("ntf_1", "g", "g", "team", "team/webhook/0", {"alertname": "probe"}, states, T0)


async def test_ingest_detect_and_deliver_spans_reach_an_otlp_receiver_in_the_events_trace(
    otlp: OtlpReceiver, rules: RuleEngine, installed: None
) -> None:
    tracing = Tracing.from_config(TracingConfig(otlp_endpoint=otlp.url, service_name="aw-test"))
    install(tracing)
    stages = Stages(engine=rules, tracing=tracing)
    outcome = stages.ingest(record(trace_id=TRACE, span_id=SPAN), source_name="audit.raw")
    assert isinstance(outcome, Accepted)
    (raised,) = stages.detect(outcome.events[0], {})
    assert (raised.trace_id, raised.span_id) == (TRACE, SPAN)
    capture = Capture()
    async with capture.client() as client:
        sink = WebhookSink("hook", "https://receiver.example/hook", SECRET, client)
        with delivering(raised.trace_id, raised.span_id, **{"auditwatch.alert_id": raised.id}):
            assert (await sink.send(raised)).ok
    assert tracing.force_flush()

    spans = {span.name: span for span in otlp.wait_for(3)}
    assert set(spans) == {INGEST, DETECT, DELIVER}
    assert otlp.paths[0] == "/v1/traces"
    for span in spans.values():
        assert (span.trace_id, span.parent_span_id, span.service) == (TRACE, SPAN, "aw-test")
    assert spans[INGEST].attributes == {"auditwatch.source": "audit.raw", "auditwatch.event_id": "probe-1"}
    assert spans[DELIVER].attributes == {"auditwatch.alert_id": raised.id}
    # The receiver is told the delivery span's ids: it joins the same trace as its child.
    header = capture.requests[0].headers["traceparent"]
    assert parse_traceparent(header) == TraceContext(TRACE, spans[DELIVER].span_id)


async def test_a_rejected_record_and_an_untraced_event_start_their_own_traces(
    otlp: OtlpReceiver, rules: RuleEngine
) -> None:
    tracing = Tracing.from_config(TracingConfig(otlp_endpoint=otlp.url + "/v1/traces"))
    stages = Stages(engine=rules, tracing=tracing)
    stages.ingest(b'{"event_id": "broken", ')
    stages.ingest(record(action="noise"))
    assert tracing.force_flush()
    tracing.shutdown()
    rejected, accepted = otlp.wait_for(2)
    assert rejected.name == accepted.name == INGEST
    assert rejected.error and not accepted.error
    assert rejected.parent_span_id == accepted.parent_span_id == ""
    assert rejected.trace_id != accepted.trace_id


async def test_without_an_endpoint_spans_are_no_ops_and_headers_carry_the_alerts_own_ids() -> None:
    tracing = Tracing.from_config(TracingConfig())
    assert not tracing.enabled
    with tracing.span(DETECT, trace_id=TRACE, span_id=SPAN) as span:
        assert span is None
    tracing.record(INGEST, start_ns=0)  # nothing to record it with: no error either
    capture = Capture()
    async with capture.client() as client:
        sink = WebhookSink("hook", "https://receiver.example/hook", SECRET, client)
        with delivering(TRACE, SPAN):
            await sink.send(alert(TraceContext(TRACE, SPAN)))
        await sink.send(alert(None))
    traced, untraced = capture.requests
    assert traced.headers["traceparent"] == f"00-{TRACE}-{SPAN}-01"
    assert json.loads(traced.content)["alert"]["trace_id"] == TRACE
    assert "traceparent" not in untraced.headers
    assert "trace_id" not in json.loads(untraced.content)["alert"]


async def test_router_webhook_sends_the_first_traced_alerts_context_and_the_ids_in_the_payload() -> None:
    capture = Capture()
    first, second = alert(None, rule="a"), alert(TraceContext(TRACE, SPAN), rule="b")
    async with capture.client() as client:
        notifier = WebhookNotifier("team/webhook/0", "https://receiver.example/hook", SECRET, client)
        assert (await notifier.notify(notification([first, second]))).ok
        assert (await notifier.notify(notification([first]))).ok
    traced, untraced = capture.requests
    assert traced.headers["traceparent"] == f"00-{TRACE}-{SPAN}-01"
    payload = json.loads(traced.content)
    assert [a["auditwatch"].get("trace_id") for a in payload["alerts"]] == [None, TRACE]
    assert payload["alerts"][1]["auditwatch"]["span_id"] == SPAN
    assert "traceparent" not in untraced.headers


def test_parent_context_ignores_missing_or_malformed_ids() -> None:
    assert parent_context(None, SPAN) is None
    assert parent_context(TRACE, None) is None
    assert parent_context("zz" * 16, SPAN) is None
    assert parent_context("0" * 32, SPAN) is None
    assert parent_context(TRACE, SPAN) is not None
    assert traces_url("http://127.0.0.1:4318/") == "http://127.0.0.1:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_the_standard_otel_variable_switches_tracing_on_unless_the_file_sets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, pinned = tmp_path / "plain.yaml", tmp_path / "pinned.yaml"
    plain.write_text("rules: {dir: rules}\n")
    pinned.write_text("tracing: {otlp_endpoint: 'http://file:4318'}\n")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert load_config(plain).tracing.otlp_endpoint is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318")
    assert load_config(plain).tracing.otlp_endpoint == "http://env:4318"
    assert load_config(pinned).tracing.otlp_endpoint == "http://file:4318"
