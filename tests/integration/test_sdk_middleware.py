"""The SDK's middleware end to end: a FastAPI app on 127.0.0.1, the real broker, a real worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from auditwatch_sdk import AuditClient
from detectors.events import AuditEvent
from examples.fastapi_shop.app import create_app
from tests.integration.conftest import Receiver, Topics, Worker, read_topic
from tests.sdk.apps import serve

REQUESTS = 1000
FORBIDDEN = 12  # DELETEs by a non-admin: 403s, a burst of authorization failures

FORBIDDEN_RULES = """\
title: Forbidden request
name: http_forbidden
logsource:
  category: authorization
detection:
  selection:
    outcome: failure
  condition: selection
level: low
---
title: Burst of forbidden requests by one actor
name: http_forbidden_burst
correlation:
  type: event_count
  rules:
    - http_forbidden
  group-by:
    - actor.id
  timespan: 60s
  condition:
    gte: 10
level: high
x-auditwatch:
  allowed_lateness: 30s
"""


def test_a_thousand_requests_make_a_thousand_events_and_a_burst_of_403s_alerts(
    make_worker: Callable[..., Worker],
    topics: Topics,
    receiver: Receiver,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "forbidden.yml").write_text(FORBIDDEN_RULES)
    worker = make_worker(AUDITWATCH_RULES_DIR=str(rules))
    worker.start()

    client = AuditClient.kafka(
        kafka_bootstrap, topic=topics.raw, service="shop", overflow="spool", spool_dir=tmp_path / "spool"
    )
    sent: dict[str, str] = {}  # request id -> trace id
    with serve(create_app(client)) as url, httpx.Client(base_url=url, timeout=10) as http:
        for n in range(REQUESTS):
            trace_id = uuid.uuid4().hex
            headers = {"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01", "x-user": f"user{n % 7}"}
            if n % 2:  # half bring their own request id; the others get one from the middleware
                headers["x-request-id"] = f"req-{n}"
            if n >= REQUESTS - FORBIDDEN:
                headers["x-user"] = "mallory"
                response = http.delete(f"/items/{n % 100}", headers=headers)
                assert response.status_code == 403
            else:
                response = http.get(f"/items/{n % 100}", headers=headers)
                assert response.status_code == 200
            request_id = response.headers["x-request-id"]
            assert request_id == headers.get("x-request-id", request_id)
            sent[request_id] = trace_id
    # leaving serve() ran the app's shutdown, which flushed the client
    assert client.stats.sent == REQUESTS, client.stats

    records = read_topic(kafka_bootstrap, topics.raw, expect=REQUESTS + 1, timeout=15)
    events = [AuditEvent.model_validate_json(r.value) for r in records]
    assert len(events) == REQUESTS
    assert {e.request_id: e.trace_id for e in events} == sent
    assert all(e.schema_version == "1.0" and e.origin.service == "shop" for e in events)

    requests = receiver.wait_for(1, timeout=120)
    assert requests, f"no alert for the burst of 403s\n{worker.log()[-4000:]}"
    alert = json.loads(requests[0].body)["alert"]
    assert alert["rule_id"] == "http_forbidden_burst"
    assert alert["group"] == {"actor.id": "mallory"}
    assert alert["count"] == 10
    assert worker.alive(), worker.log()[-4000:]
    worker.stop()
