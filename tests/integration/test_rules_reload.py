"""Rules against the real broker: hot reload while events flow, and correlation state across a restart."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.detectors.test_rule_problems import EXPECTED, TEN_MISTAKES
from tests.integration.conftest import REPO, Receiver, Topics, Worker, produce, read_topic, wait_until

START = 1_767_225_600  # 2026-01-01T00:00:00Z

TICKS = """\
title: Tick
name: tick
logsource: {product: acme}
detection: {sel: {action: tick}, condition: sel}
level: low
x-auditwatch:
  tests:
    - {name: a tick matches, event: {action: tick, origin: {system: acme.app}}, expect: match}
"""

PROBE = TICKS.replace("Tick", "Probe").replace("tick", "probe")


def event(action: str, number: int, actor: str = "alice", **extra: Any) -> bytes:
    return json.dumps(
        {
            "event_id": f"{action}-{number}-{uuid.uuid4().hex[:8]}",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + number)),
            "actor": {"id": actor, "type": "human"},
            "action": action,
            "category": "authentication" if action == "login" else "other",
            "outcome": "failure" if action == "login" else "success",
            "source": {"ip": "203.0.113.7"},
            "origin": {"system": "acme.app"},
            **extra,
        }
    ).encode()


def alerts_by_rule(receiver: Receiver) -> dict[str, list[dict[str, Any]]]:
    """Alerts received, per rule, each id once (delivery is at least once; receivers dedupe on the id)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for request in list(receiver.requests):
        alert = json.loads(request.body)["alert"]
        found.setdefault(alert["rule_id"], {})[alert["id"]] = alert
    return {rule: list(alerts.values()) for rule, alerts in found.items()}


def rules_copy(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "config" / "rules", rules)
    # a shipped correlation names the behaviour detector, declared beside the rules
    shutil.copytree(REPO / "config" / "detectors", tmp_path / "detectors")
    (rules / "ticks.yml").write_text(TICKS)
    return rules


def test_hot_reload_while_events_flow_misses_no_event_and_a_broken_set_is_refused(
    make_worker: Callable[..., Worker],
    topics: Topics,
    receiver: Receiver,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    rules = rules_copy(tmp_path)
    worker = make_worker(AUDITWATCH_RULES_DIR=str(rules))
    worker.start()
    wait_until(lambda: "watching" in worker.log(), 60, "the rules watcher to start", worker)

    ticks_sent = 0
    stop = threading.Event()

    def send_ticks() -> None:
        nonlocal ticks_sent
        while not stop.is_set():
            batch = [event("tick", 1000 + ticks_sent + i, actor=f"t{ticks_sent + i}") for i in range(5)]
            produce(kafka_bootstrap, topics.raw, batch)
            ticks_sent += len(batch)
            time.sleep(0.2)

    ticker = threading.Thread(target=send_ticks, daemon=True)
    ticker.start()
    try:
        # A burst window opened under the old rules ...
        produce(kafka_bootstrap, topics.raw, [event("login", s, actor="bob") for s in (0, 5, 10)])
        wait_until(lambda: len(alerts_by_rule(receiver).get("tick", [])) >= 10, 90, "tick alerts", worker)
        (rules / "probe.yml").write_text(PROBE)  # ... and a rule added while events flow.
        wait_until(
            lambda: "rules added: probe" in worker.log(), 60, "the reload that adds the probe rule", worker
        )
        produce(kafka_bootstrap, topics.raw, [event("probe", 2000 + i, actor=f"p{i}") for i in range(5)])
        produce(kafka_bootstrap, topics.raw, [event("login", s, actor="bob") for s in (15, 20)])

        (rules / "zz_broken.yml").write_text(TEN_MISTAKES)  # a file with ten mistakes appears
        wait_until(
            lambda: "auditwatch.rules.reload_failed" in alerts_by_rule(receiver),
            60,
            "the reload-failed alert",
            worker,
        )
        produce(kafka_bootstrap, topics.raw, [event("probe", 3000 + i, actor=f"q{i}") for i in range(3)])
    finally:
        stop.set()
        ticker.join(30)

    wait_until(
        lambda: (
            len(alerts_by_rule(receiver).get("tick", [])) >= ticks_sent
            and len(alerts_by_rule(receiver).get("probe", [])) >= 8
        ),
        120,
        f"{ticks_sent} tick alerts and 8 probe alerts",
        worker,
    )
    time.sleep(2)  # an alert too many would show now
    found = alerts_by_rule(receiver)
    assert len(found["tick"]) == ticks_sent, "every tick was evaluated, before, during and after the reloads"
    assert len(found["probe"]) == 8, "the added rule saw every probe sent after the reload"
    (burst,) = found["failed_login_burst"]
    assert burst["count"] == 5 and burst["group"] == {"actor.id": "bob"}, (
        "the open window survived the reload"
    )
    (refused,) = found["auditwatch.rules.reload_failed"]
    assert refused["count"] == len(EXPECTED) >= 10, refused["evidence"]
    assert any(
        "zz_broken.yml:9:" in e["problem"] and "sounds_like" in e["problem"] for e in refused["evidence"]
    )
    assert "reload refused, keeping the previous rules" in worker.log()
    assert worker.alive(), worker.log()[-4000:]
    worker.stop()


def test_value_count_window_survives_a_worker_restart(
    make_worker: Callable[..., Worker],
    topics: Topics,
    receiver: Receiver,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    rules = rules_copy(tmp_path)
    first = make_worker(AUDITWATCH_RULES_DIR=str(rules))
    first.start()
    produce(kafka_bootstrap, topics.raw, [event("login", s, actor=f"user{s}") for s in range(6)])
    changelog = f"{first.env['AUDITWATCH_APP_ID']}-rule-state-changelog"
    wait_until(
        lambda: any(
            json.loads(m.key).startswith("password_spraying|") and len(json.loads(m.value)["v"]) == 6
            for m in read_topic(kafka_bootstrap, changelog, expect=10_000, timeout=3)
            if m.value
        ),
        120,
        "six distinct users in the spraying window's changelog",
        first,
    )
    first.kill()  # no clean shutdown: the changelog alone must carry the window

    second = make_worker(AUDITWATCH_RULES_DIR=str(rules))
    second.start()
    produce(kafka_bootstrap, topics.raw, [event("login", s, actor=f"user{s}") for s in range(6, 10)])
    wait_until(lambda: "password_spraying" in alerts_by_rule(receiver), 120, "the spraying alert", second)
    (alert,) = alerts_by_rule(receiver)["password_spraying"]
    assert alert["count"] == 10 and alert["group"] == {"source.ip": "203.0.113.7"}
    assert alert["title"].startswith("Password spraying from 203.0.113.7")
    second.stop()
