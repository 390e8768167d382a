"""The API served by a real ``auditwatch worker`` on the real broker.

A real HTTP client makes denied calls; their audit events go through the raw
topic, ingest and the rules like any source's, and the shipped burst rule's
alert reaches the alerts topic and the webhook receiver. An acknowledgement
made through the API survives a worker restart (the compacted status topic).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pipeline.api.tokens import TokenStore
from tests.integration.conftest import Receiver, Topics, Worker, read_topic, wait_until

BURST_RULES = {"auditwatch_api_denied_burst_actor", "auditwatch_api_denied_burst_source"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def api_worker(
    make_worker: Callable[..., Worker], tmp_path: Path, tokens_exist: bool = False
) -> tuple[Worker, str, dict[str, str]]:
    """A started worker with the API on a free port, and a token per role."""
    tokens = TokenStore(tmp_path / "tokens.json")
    secrets: dict[str, str] = {}
    if not tokens_exist:
        secrets = {role: tokens.create(f"{role}-bot", role)[1] for role in ("viewer", "responder")}
    port = free_port()
    worker = make_worker({"api": {"port": port, "tokens_file": str(tmp_path / "tokens.json")}})
    worker.start()
    base = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/livez", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(live, 60, "the API to answer", worker)
    return worker, base, secrets


def alerts_of(kafka_bootstrap: str, topic: str, rules: set[str], timeout: float) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        records = read_topic(kafka_bootstrap, topic, expect=1, timeout=3)
        found[:] = [json.loads(r.value) for r in records]
        return rules <= {a["rule_id"] for a in found}

    wait_until(arrived, timeout, f"alerts of {sorted(rules)} on {topic}")
    return [a for a in found if a["rule_id"] in rules]


def test_twelve_denied_calls_fire_the_shipped_rule(
    make_worker: Callable[..., Worker],
    topics: Topics,
    kafka_bootstrap: str,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    worker, base, secrets = api_worker(make_worker, tmp_path)
    with httpx.Client(base_url=base, timeout=10) as client:
        statuses = [client.get("/api/v1/alerts").status_code for _ in range(6)]
        statuses += [
            client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secrets['viewer']}"}).status_code
            for _ in range(6)
        ]
        assert statuses == [401] * 6 + [403] * 6
        denied = client.get("/api/v1/whoami", headers={"Authorization": "Bearer awt_wrong"})
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"

        fired = alerts_of(kafka_bootstrap, topics.alerts, {"auditwatch_api_denied_burst_source"}, 90)
        assert {a["group"]["source.ip"] for a in fired} == {"127.0.0.1"}
        assert all(a["count"] == 10 and a["severity"] == "high" for a in fired)
        wait_until(
            lambda: any(
                json.loads(r.body)["alert"]["rule_id"] == "auditwatch_api_denied_burst_source"
                for r in receiver.requests
            ),
            60,
            "the burst alert at the webhook receiver",
            worker,
        )

        viewer = {"Authorization": f"Bearer {secrets['viewer']}"}
        audit = client.get("/api/v1/audit", params={"limit": 1000}, headers=viewer).json()["events"]
        denials = [e for e in audit if e["extra"]["denied"]]
        assert len(denials) == 13
        assert {(e["action"], e["actor"]["id"]) for e in denials} == {
            ("auditwatch.api.alerts.list", "anonymous"),
            ("auditwatch.api.tokens.list", "viewer-bot"),
            ("auditwatch.api.whoami", "anonymous"),
        }
        # the API's own alert book follows the alerts topic
        wait_until(
            lambda: any(
                r["alert"]["rule_id"] == "auditwatch_api_denied_burst_source"
                for r in client.get("/api/v1/alerts", headers=viewer).json()["alerts"]
            ),
            30,
            "the alert in GET /api/v1/alerts",
            worker,
        )
    raw = read_topic(kafka_bootstrap, topics.raw, expect=13, timeout=30)
    actions = [json.loads(r.value)["action"] for r in raw]
    assert sum(a.startswith("auditwatch.api.") for a in actions) >= 13


def test_an_acknowledgement_survives_a_worker_restart(
    make_worker: Callable[..., Worker], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    worker, base, secrets = api_worker(make_worker, tmp_path)
    viewer = {"Authorization": f"Bearer {secrets['viewer']}"}
    responder = {"Authorization": f"Bearer {secrets['responder']}"}
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(10):
            assert client.get("/api/v1/rules").status_code == 401
        [alert] = alerts_of(kafka_bootstrap, topics.alerts, {"auditwatch_api_denied_burst_actor"}, 90)

        def listed() -> bool:
            return client.get(f"/api/v1/alerts/{alert['id']}", headers=viewer).status_code == 200

        wait_until(listed, 30, "the alert in the API", worker)
        acked = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=responder, json={"comment": "mine"})
        assert acked.status_code == 200, acked.text
    worker.stop()

    again = make_worker(
        {"api": {"port": int(base.rsplit(":", 1)[1]), "tokens_file": str(tmp_path / "tokens.json")}}
    )
    again.start()
    with httpx.Client(base_url=base, timeout=10) as client:

        def acknowledged() -> bool:
            try:
                answer = client.get(f"/api/v1/alerts/{alert['id']}", headers=viewer)
            except httpx.HTTPError:
                return False
            return answer.status_code == 200 and answer.json()["status"] == "acknowledged"

        wait_until(acknowledged, 60, "the acknowledgement after the restart", again)
        record = client.get(f"/api/v1/alerts/{alert['id']}", headers=viewer).json()
        assert [(h["status"], h["by"], h["comment"]) for h in record["history"][1:]] == [
            ("acknowledged", "responder-bot", "mine")
        ]


def test_an_acknowledgement_through_one_worker_shows_in_another(
    make_worker: Callable[..., Worker], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    first, base, secrets = api_worker(make_worker, tmp_path)
    viewer = {"Authorization": f"Bearer {secrets['viewer']}"}
    with httpx.Client(timeout=10) as client:
        for _ in range(10):
            assert client.get(f"{base}/api/v1/whoami").status_code == 401
        [alert] = alerts_of(kafka_bootstrap, topics.alerts, {"auditwatch_api_denied_burst_actor"}, 90)
        # The second worker joins once the alert exists: its API must find the alert (and the
        # status) in the topics, whatever the consumer group's rebalance is doing meanwhile.
        second, other, _ = api_worker(make_worker, tmp_path, tokens_exist=True)
        url = f"/api/v1/alerts/{alert['id']}"

        def known(api: str) -> Callable[[], bool]:
            return lambda: client.get(api + url, headers=viewer).status_code == 200

        wait_until(known(base), 30, "the alert in the first worker's API", first)
        wait_until(known(other), 30, "the alert in the second worker's API", second)
        acked = client.post(
            f"{base}{url}/ack", headers={"Authorization": f"Bearer {secrets['responder']}"}, json={}
        )
        assert acked.status_code == 200, acked.text

        def shown() -> bool:
            answer = client.get(other + url, headers=viewer)
            return answer.status_code == 200 and answer.json()["status"] == "acknowledged"

        wait_until(shown, 30, "the acknowledgement on the other worker", second)
