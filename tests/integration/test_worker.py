"""The worker end to end, against the real broker and a real HTTP receiver."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from alerts.signing import verify
from tests.integration.conftest import (
    WEBHOOK_SECRET,
    Receiver,
    Topics,
    Worker,
    produce,
    read_topic,
    wait_until,
)

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def failed_login(actor: str, second: int) -> bytes:
    return json.dumps(
        {
            "event_id": f"{actor}-{second}-{uuid.uuid4().hex[:6]}",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + second)),
            "actor": {"id": actor, "type": "human"},
            "action": "login",
            "category": "authentication",
            "outcome": "failure",
            "source": {"ip": "203.0.113.7"},
            "origin": {"system": "acme.sso"},
            "correlation_id": f"req-{second}",
        }
    ).encode()


def alerts_received(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_failed_logins_alert_is_signed_and_a_malformed_record_is_dead_lettered(
    make_worker: Callable[..., Worker], topics: Topics, receiver: Receiver, kafka_bootstrap: str
) -> None:
    worker = make_worker()
    worker.start()
    records = [failed_login("alice", s) for s in (0, 5, 10)]
    records.append(b'{"event_id": "broken", "actor": {"id": "alice"}, "time": ')
    records += [failed_login("alice", s) for s in (15, 20)]
    produce(kafka_bootstrap, topics.raw, records)

    requests = receiver.wait_for(1)
    assert requests, f"no alert reached the receiver\n{worker.log()[-4000:]}"
    request = requests[0]
    verify(WEBHOOK_SECRET, request.body, request.headers)
    alert = json.loads(request.body)["alert"]
    assert alert["rule_id"] == "failed_login_burst"
    assert alert["count"] == 5
    assert alert["group"] == {"actor.id": "alice"}
    assert request.headers["webhook-id"] == alert["id"]

    letters = read_topic(kafka_bootstrap, topics.dlq, expect=1)
    assert len(letters) == 1
    letter = json.loads(letters[0].value)
    assert letter["reason"].startswith("invalid JSON")
    assert letter["source_topic"] == topics.raw
    assert letter["offset"] is not None
    assert letter["original_preview"].startswith('{"event_id": "broken"')
    assert worker.alive()
    worker.stop()


def test_a_restarted_worker_continues_counting_the_open_window(
    make_worker: Callable[..., Worker], topics: Topics, receiver: Receiver, kafka_bootstrap: str
) -> None:
    first = make_worker()
    first.start()
    produce(kafka_bootstrap, topics.raw, [failed_login("bob", s) for s in (0, 5, 10)])
    changelog = f"{first.env['AUDITWATCH_APP_ID']}-rule-state-changelog"
    wait_until(
        lambda: len(read_topic(kafka_bootstrap, changelog, expect=3, timeout=3)) >= 3,
        120,
        "three window updates in the changelog",
        first,
    )
    first.kill()  # no clean shutdown: the changelog alone must carry the window

    second = make_worker()
    second.start()
    produce(kafka_bootstrap, topics.raw, [failed_login("bob", s) for s in (15, 20)])
    requests = receiver.wait_for(1, timeout=120)
    assert requests, f"no alert after the restart\n{second.log()[-4000:]}"
    alert = json.loads(requests[0].body)["alert"]
    assert alert["count"] == 5
    assert alert["group"] == {"actor.id": "bob"}
    time.sleep(3)
    assert len(receiver.requests) == 1, "the restart must not produce a second alert"
    second.stop()


def test_bad_input_of_every_kind_is_dead_lettered_and_the_worker_keeps_running(
    make_worker: Callable[..., Worker], topics: Topics, receiver: Receiver, kafka_bootstrap: str
) -> None:
    worker = make_worker()
    worker.start()
    good = json.loads(failed_login("carol", 0))
    bad = {
        "invalid JSON": b'{"event_id": "x", ',
        "wrong type": json.dumps({**good, "actor": {"id": ["not", "a", "string"]}}).encode(),
        "missing field": json.dumps({k: v for k, v in good.items() if k != "action"}).encode(),
        "naive timestamp": json.dumps({**good, "time": "2026-01-01T00:00:00"}).encode(),
        "over 1 MiB": json.dumps({**good, "extra": {"blob": "x" * (1024 * 1024 + 10)}}).encode(),
        "empty": b"",
        "non-UTF-8": b'{"event_id": "\xc3\x28"}',
    }
    expected_reasons = {
        "invalid JSON": "invalid JSON",
        "wrong type": "actor.id: Input should be a valid string",
        "missing field": "action: required field is missing",
        "naive timestamp": "timestamp has no time zone",
        "over 1 MiB": "over the 1048576-byte limit",
        "empty": "empty record",
        "non-UTF-8": "not valid UTF-8",
    }
    produce(kafka_bootstrap, topics.raw, [*bad.values(), failed_login("carol", 1)])

    letters = read_topic(kafka_bootstrap, topics.dlq, expect=len(bad), timeout=120)
    reasons = sorted(json.loads(m.value)["reason"] for m in letters)
    assert len(letters) == len(bad), reasons
    for kind, reason in expected_reasons.items():
        assert any(reason in r for r in reasons), f"{kind}: no dead letter says {reason!r}: {reasons}"
    originals = {json.loads(m.value)["size"] for m in letters}
    assert {len(v) for v in bad.values()} == originals, "every dead letter keeps its original bytes"

    events = read_topic(kafka_bootstrap, topics.events, expect=1, timeout=60)
    assert [json.loads(m.value)["actor"]["id"] for m in events] == ["carol"]
    assert worker.alive(), worker.log()[-4000:]
    worker.stop()
