"""The router in a real worker, against the real broker and real HTTP receivers on 127.0.0.1.

Each test starts ``auditwatch worker`` with a router config, publishes alerts
to ``audit.alerts`` as the detect stage would, and watches what a receiver
gets: grouping and group_wait, repeat_interval, inhibition, silences,
Retry-After, a receiver down for a minute, parking and redelivery, and a worker
killed between grouping and sending.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.model import Alert, build_alert
from alerts.signing import verify
from detectors.findings import Finding, Severity
from tests.integration.conftest import (
    AUDITWATCH,
    REPO,
    WEBHOOK_SECRET,
    Topics,
    Worker,
    produce,
    read_topic,
    wait_until,
)

OUTAGE = float(os.environ.get("AUDITWATCH_TEST_OUTAGE_SECONDS", "60"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Delivery:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def fingerprints(self) -> list[str]:
        return [alert["fingerprint"] for alert in self.payload["alerts"]]


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1 that can answer from a script, or be down."""

    port: int = 0
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """(status, headers) answers, in order; 200 once they run out."""
    delivered: list[Delivery] = field(default_factory=list)
    attempts: list[Delivery] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                seen = Delivery(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
                hook.attempts.append(seen)
                status, headers = hook.script.pop(0) if hook.script else (200, {})
                if status == 200:
                    hook.delivered.append(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered) < count:
            time.sleep(0.1)
        return list(self.delivered)

    def for_group(self, alertname: str) -> list[Delivery]:
        return [d for d in self.delivered if d.payload["groupLabels"].get("alertname") == alertname]


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.up()
    yield server
    server.down()


def alert(rule: str, entity: str, severity: Severity = Severity.HIGH) -> Alert:
    return build_alert(
        Finding(
            rule_id=rule,
            rule_title=rule.replace("_", " ").capitalize(),
            severity=severity,
            group={"actor.id": entity},
            count=5,
            threshold=">= 5 in 60s",
            window_start=T0,
            window_end=T0 + timedelta(seconds=60),
            first_seen=T0 + timedelta(seconds=1),
            last_seen=T0 + timedelta(seconds=40),
            evidence=({"event_id": f"{entity}-1", "actor": entity, "action": "login", "origin": "okta"},),
        )
    )


def publish(bootstrap: str, topics: Topics, alerts: list[Alert]) -> None:
    produce(bootstrap, topics.alerts, [a.to_json_bytes() for a in alerts])


def webhook_router(*, delivery: dict[str, Any] | None = None, **route: Any) -> dict[str, Any]:
    return {
        "global": {"resolve_timeout": "10m"},
        "route": {
            "receiver": "hook",
            "group_by": ["alertname"],
            "group_wait": "2s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            **route,
        },
        "receivers": [
            {
                "name": "hook",
                "webhook_configs": [{"url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"}],
            }
        ],
        "delivery": delivery or {"max_attempts": 3, "base_delay": 0.2, "max_delay": 1},
    }


@pytest.fixture
def router_worker(make_worker: Callable[..., Worker], hook: Hook, tmp_path: Path) -> Callable[..., Worker]:
    def start(router: dict[str, Any], *, tick: float = 0.2, api_port: int = 0) -> Worker:
        (tmp_path / "router.yaml").write_text(json.dumps(router, indent=1))
        config = tmp_path / "router-auditwatch.yaml"
        config.write_text(
            json.dumps(
                {
                    "kafka": {"partitions": 2},
                    "rules": {"dir": str(REPO / "config" / "rules")},
                    "alerts": {"router": "router.yaml", "router_tick": tick, "silences_api_port": api_port},
                }
            )
        )
        worker = make_worker(AUDITWATCH_CONFIG=str(config), HOOK_URL=hook.url, HOOK_SECRET=WEBHOOK_SECRET)
        worker.start()
        return worker

    return start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_ids(url: str) -> list[str]:
    try:
        return [s["id"] for s in httpx.get(url, timeout=2).json() if s["status"]["state"] == "active"]
    except httpx.HTTPError:
        return []


def cli(worker: Worker, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AUDITWATCH, *args], env=worker.env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_grouping_inhibition_and_repeat_interval(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    router = webhook_router(group_wait="3s", repeat_interval="4s")
    router["inhibit_rules"] = [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="high"'],
            "equal": ["entity"],
        }
    ]
    worker = router_worker(router)
    burst = [alert("failed_login_burst", f"user{i}") for i in range(50)]
    takeover = alert("account_takeover", "victim", Severity.CRITICAL)
    escalation = alert("privilege_escalation", "victim", Severity.HIGH)  # inhibited by the takeover
    sent_at = time.monotonic()
    publish(kafka_bootstrap, topics, [*burst, takeover, escalation])

    wait_until(
        lambda: len(hook.for_group("failed_login_burst")) >= 3, 90, "three burst notifications", worker
    )

    first, second, third = hook.for_group("failed_login_burst")[:3]
    verify(WEBHOOK_SECRET, first.body, first.headers)
    assert first.at - sent_at >= 3.0, "the first notification waits for group_wait"
    assert sorted(first.fingerprints) == sorted(a.id for a in burst), "50 alerts, one notification"
    assert first.payload["groupKey"] == '{}:{alertname="failed_login_burst"}'
    # Nothing changed, so the group is notified again every repeat_interval, as a new notification.
    assert second.fingerprints == first.fingerprints
    assert second.at - first.at >= 4.0 - 0.5 and third.at - second.at >= 4.0 - 0.5
    assert len({d.headers["webhook-id"] for d in (first, second, third)}) == 3
    assert [d.fingerprints for d in hook.for_group("account_takeover")][:1] == [[takeover.id]]
    assert hook.for_group("privilege_escalation") == [], "an inhibited alert is not sent"
    worker.stop()


def test_a_silenced_alert_is_sent_after_the_silence_expires(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    port = free_port()
    worker = router_worker(webhook_router(), api_port=port)
    added = cli(
        worker, "silence", "add", 'entity="actor.id=pentester"', "--comment", "pentest", "--duration", "1h"
    )
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    assert silence_id in cli(worker, "silence", "list").stdout
    api = f"http://127.0.0.1:{port}/api/v2/silences"
    wait_until(
        lambda: silence_id in api_ids(api), 60, "the worker's silences API to list the silence", worker
    )
    silenced, loud = alert("failed_login_burst", "pentester"), alert("impossible_travel", "alice")
    publish(kafka_bootstrap, topics, [silenced, loud])

    wait_until(lambda: hook.for_group("impossible_travel") != [], 60, "the unsilenced alert", worker)
    time.sleep(3.0)  # several group intervals
    assert hook.for_group("failed_login_burst") == [], "a silenced alert is not sent"

    expired = cli(worker, "silence", "expire", silence_id)
    assert expired.returncode == 0, expired.stderr
    wait_until(lambda: hook.for_group("failed_login_burst") != [], 30, "the alert once unsilenced", worker)
    assert hook.for_group("failed_login_burst")[0].fingerprints == [silenced.id]
    assert silence_id in cli(worker, "silence", "list", "--expired").stdout
    worker.stop()


def test_a_429_with_retry_after_is_retried_after_that_delay(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    hook.script = [(429, {"Retry-After": "3"})]
    worker = router_worker(webhook_router())
    publish(kafka_bootstrap, topics, [alert("failed_login_burst", "alice")])

    (delivered,) = hook.wait_for(1, 60)

    refused, accepted = hook.attempts[:2]
    assert accepted is delivered
    assert accepted.at - refused.at >= 3.0, "the receiver's Retry-After is honoured"
    assert accepted.headers["webhook-id"] == refused.headers["webhook-id"]
    worker.stop()


def test_a_receiver_down_for_a_minute_gets_every_alert_once_after_it_comes_back(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    router = webhook_router(
        group_by=["..."], delivery={"max_attempts": 60, "base_delay": 0.5, "max_delay": 4, "factor": 2}
    )
    worker = router_worker(router)
    hook.down()
    outage_started = time.monotonic()
    first = [alert("failed_login_burst", f"early{i}") for i in range(5)]
    publish(kafka_bootstrap, topics, first)
    time.sleep(OUTAGE / 2)
    later = [alert("failed_login_burst", f"late{i}") for i in range(5)]
    publish(kafka_bootstrap, topics, later)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - outage_started)))
    hook.up()

    hook.wait_for(10, 120)
    time.sleep(3.0)  # anything doubled would arrive now

    fingerprints = [fp for d in hook.delivered for fp in d.fingerprints]
    assert sorted(fingerprints) == sorted(a.id for a in first + later), (
        f"none lost, none duplicated\n{worker.log()[-4000:]}"
    )
    assert len({d.headers["webhook-id"] for d in hook.delivered}) == len(hook.delivered) == 10
    assert read_topic(kafka_bootstrap, topics.alerts_dlq, expect=1, timeout=2) == [], "nothing parked"
    worker.stop()


def test_parked_notifications_are_redelivered_once_the_receiver_is_back(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    worker = router_worker(webhook_router(delivery={"max_attempts": 2, "base_delay": 0.1, "max_delay": 0.2}))
    hook.script = [(503, {}), (503, {})]
    parked_alert = alert("failed_login_burst", "alice")
    publish(kafka_bootstrap, topics, [parked_alert])

    (letter,) = read_topic(kafka_bootstrap, topics.alerts_dlq, expect=1, timeout=60)
    parked = json.loads(letter.value)
    assert parked["kind"] == "notification" and parked["integration"] == "hook/webhook/0"
    assert parked["reason"].startswith("gave up after 2 attempts: HTTP 503")
    assert hook.delivered == []
    worker.stop()

    redelivered = cli(worker, "alerts", "redeliver")
    assert redelivered.returncode == 0, redelivered.stderr
    assert "redelivered 1, parked again 0" in redelivered.stderr
    (delivery,) = hook.delivered
    assert delivery.fingerprints == [parked_alert.id]
    assert delivery.headers["webhook-id"] == parked["id"]
    again = cli(worker, "alerts", "redeliver")
    assert "redelivered 0" in again.stderr and len(hook.delivered) == 1


def test_a_worker_killed_between_grouping_and_sending_neither_loses_nor_doubles(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    router = webhook_router(group_wait="15s")
    first = router_worker(router)
    grouped = alert("failed_login_burst", "alice")
    publish(kafka_bootstrap, topics, [grouped])
    changelog = f"{first.env['AUDITWATCH_APP_ID']}-router-groups-changelog"
    wait_until(
        lambda: len(read_topic(kafka_bootstrap, changelog, expect=1, timeout=2)) >= 1,
        60,
        "the group in the changelog",
        first,
    )
    first.kill()  # no clean shutdown: the changelog alone carries the group
    assert hook.delivered == []

    second = router_worker(router)
    (delivery,) = hook.wait_for(1, 90)
    assert delivery.fingerprints == [grouped.id]
    time.sleep(4.0)
    assert len(hook.delivered) == 1, "the restart must not send it twice"
    second.kill()

    third = router_worker(router)
    time.sleep(8.0)
    assert len(hook.delivered) == 1, "a restart after sending must not send it again"
    third.stop()


def test_a_resolved_alert_is_notified_where_asked_then_the_group_is_done(
    router_worker: Callable[..., Worker], hook: Hook, topics: Topics, kafka_bootstrap: str
) -> None:
    router = webhook_router(group_wait="1s")
    router["global"] = {"resolve_timeout": "3s"}
    worker = router_worker(router)
    raised = alert("failed_login_burst", "alice")
    publish(kafka_bootstrap, topics, [raised])

    firing, resolved = hook.wait_for(2, 60)[:2]
    assert firing.payload["status"] == "firing" and firing.fingerprints == [raised.id]
    assert resolved.payload["status"] == "resolved" and resolved.fingerprints == [raised.id]
    assert resolved.payload["alerts"][0]["status"] == "resolved"
    time.sleep(3.0)
    assert len(hook.delivered) == 2, "a resolved group is not notified again"
    worker.stop()
