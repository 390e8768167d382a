"""Acceptance (issue 8): /metrics of a real worker shows the exact counts of a replayed sample.

The sample is ``config/samples/demo.jsonl`` (319 lines, 3 of them malformed)
followed by generated lines: failed-login bursts of three actors, a burst of
denied reads, and two more bad records, so several rules fire. The
expectations are computed without the worker: the lines are counted from the
file, and the dead letters and alerts per rule come from ``auditwatch
replay`` over the same file with the same config (a separate process, no
Kafka). The worker then gets the file through the real broker, and its
``/metrics`` page, scraped over HTTP, must show exactly those numbers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline.archive.keys import Signer
from pipeline.metrics import directory_bytes
from pipeline.stall import RESUMED_RULE, STALL_RULE
from tests.integration.conftest import AUDITWATCH, REPO, Topics, Worker, produce, read_topic, wait_until

SAMPLE = REPO / "config" / "samples" / "demo.jsonl"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(port: int) -> Samples:
    """Every sample on the page, keyed by name and sorted labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for (sample_name, labels), number in samples.items():
        if sample_name == name:
            key = dict(labels)[label]
            totals[key] = totals.get(key, 0.0) + number
    return totals


def generated() -> list[bytes]:
    """Bursts that fire shipped rules, then two records ingest must reject."""

    def event(n: int, actor: str, second: int, action: str, category: str, ip: str) -> bytes:
        return json.dumps(
            {
                "event_id": f"metrics-{n}",
                "time": f"2026-03-02T12:{second // 60:02d}:{second % 60:02d}Z",
                "tenant_id": "acme",
                "actor": {"id": actor, "type": "human"},
                "action": action,
                "category": category,
                "outcome": "failure",
                "source": {"ip": ip},
                "origin": {"system": "metrics.test"},
            }
        ).encode()

    lines = [
        event(k * 6 + j, actor, k * 120 + j * 5, "login", "authentication", f"203.0.113.{10 + k}")
        for k, actor in enumerate(["mallory", "trudy", "eve"])
        for j in range(6)
    ]
    lines += [
        event(100 + j, "oscar", 600 + 2 * j, "s3.GetObject", "authorization", "198.51.100.40")
        for j in range(12)
    ]
    lines.append(b"not json at all")
    lines.append(json.dumps({"event_id": "no-actor", "time": "2026-03-02T12:30:00Z", "action": "x"}).encode())
    return lines


def replay_expectations(
    sample: Path, config: Path, tmp_path: Path, env: dict[str, str]
) -> tuple[int, Counter[str]]:
    """Dead letters and alerts per rule of ``auditwatch replay`` over the sample."""
    alerts_out, dead_out = tmp_path / "replay-alerts.jsonl", tmp_path / "replay-dead.jsonl"
    subprocess.run(
        [AUDITWATCH, "replay", "--config", str(config), "--no-send", "--no-progress",
         "--alerts-out", str(alerts_out), "--dead-letter", str(dead_out), str(sample)],
        env=env, cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    alerts = Counter(json.loads(line)["rule_id"] for line in alerts_out.read_text().splitlines() if line)
    dead = sum(1 for line in dead_out.read_text().splitlines() if line)
    return dead, alerts


def test_metrics_show_the_exact_counts_of_a_replayed_sample(
    make_worker: Callable[..., Worker], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = free_port()
    # One partition: the worker sees the file in its order, as replay does, so correlations agree.
    key, archive = tmp_path / "archive.pem", tmp_path / "archive"
    Signer.generate().write(key)
    sections = {
        "kafka": {"partitions": 1},
        "metrics": {"port": port, "sample_seconds": 1},
        "archive": {"enabled": True, "dir": str(archive), "checkpoint_interval": 1},
    }
    worker = make_worker(sections, AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE=str(key))
    config = Path(worker.env["AUDITWATCH_CONFIG"])
    lines = [line for line in SAMPLE.read_bytes().splitlines() if line.strip()] + generated()
    sample = tmp_path / "sample.jsonl"
    sample.write_bytes(b"\n".join(lines) + b"\n")
    dead, alerts = replay_expectations(sample, config, tmp_path, worker.env)
    assert (len(lines), dead) == (319 + 32, 3 + 2)  # the sample is what this test believes it is
    assert len(alerts) >= 2, f"the sample must fire several rules for the counts to mean much: {alerts}"
    good = len(lines) - dead

    worker.start()
    produce(kafka_bootstrap, topics.raw, lines)

    def processed() -> bool:
        try:
            samples = scrape(port)
        except OSError:
            return False
        lag = ("auditwatch_consumer_lag", (("partition", "0"), ("topic", topics.events)))
        return (
            value(samples, "auditwatch_records_in_total") >= len(lines)
            and value(samples, "auditwatch_events_evaluated_total") >= good
            and samples.get(lag) == 0
        )

    wait_until(processed, 120, "the worker to process the sample", worker)
    samples = scrape(port)

    assert value(samples, "auditwatch_records_in_total") == len(lines)
    assert value(samples, "auditwatch_events_accepted_total") == good
    assert value(samples, "auditwatch_records_dead_lettered_total") == dead
    assert value(samples, "auditwatch_events_evaluated_total") == good
    raised = {rule: int(n) for rule, n in by_label(samples, "auditwatch_alerts_total", "rule").items() if n}
    assert raised == dict(alerts)
    # Every accepted event is counted under its source, and went through the rules engine once.
    assert sum(by_label(samples, "auditwatch_events_by_source_total", "source").values()) == good
    assert value(samples, "auditwatch_detector_seconds_count", detector="rules") == good
    matches = by_label(samples, "auditwatch_rule_matches_total", "rule")
    assert matches and all(n > 0 for n in matches.values())
    # The monitor sampled both of this worker's source partitions; nothing is stalled or parked.
    for topic in (topics.raw, topics.events):
        assert value(samples, "auditwatch_consumer_lag", topic=topic, partition="0") == 0
        assert ("auditwatch_partition_stalled", (("partition", "0"), ("topic", topic))) in samples
        assert value(samples, "auditwatch_partition_stalled", topic=topic, partition="0") == 0
    assert value(samples, "auditwatch_notifications_parked") == 0
    # The archive holds its start record, every accepted event and every alert; its gauge of bytes
    # catches up with the directory once the timer has run after the last write.
    wait_until(
        lambda: value(scrape(port), "auditwatch_archive_records") == 1 + good + sum(alerts.values()),
        30, "the archive to hold every event and alert", worker,
    )  # fmt: skip
    wait_until(
        lambda: value(scrape(port), "auditwatch_archive_bytes") == directory_bytes(archive) > 0,
        30, "the archive size gauge to match the directory", worker,
    )  # fmt: skip
    assert worker.alive()
    worker.stop()


@dataclass
class HangingReceiver:
    """A webhook receiver on 127.0.0.1 that holds every request until released, then answers 200."""

    url: str = ""
    released: threading.Event = field(default_factory=threading.Event)
    bodies: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def hanging() -> Iterator[HangingReceiver]:
    state = HangingReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if not state.released.wait(timeout=60):
                return  # never answered: the sender times out
            state.bodies.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()


def test_a_consumer_held_up_by_a_hanging_receiver_is_reported_stalled_then_resumed(
    make_worker: Callable[..., Worker],
    topics: Topics,
    kafka_bootstrap: str,
    hanging: HangingReceiver,
) -> None:
    """Without the router, the notify agent awaits each delivery: a receiver that hangs holds the
    alerts partition while new alerts arrive. That is a real stall; it must be gauged, alerted once
    (the alert itself is routed to the same receiver), and resolved when the receiver answers."""
    port = free_port()
    sections = {
        "kafka": {"partitions": 1},
        "metrics": {"port": port, "sample_seconds": 0.5, "stall_after_seconds": 3},
        "alerts": {
            "sinks": [
                {"name": "hook", "type": "webhook", "min_severity": "info", "timeout": 1,
                 "url_env": "HANG_URL", "secret_env": "TEST_WEBHOOK_SECRET"}
            ],
            "delivery": {"max_attempts": 100, "base_delay": 0.1, "max_delay": 0.2},
        },
    }  # fmt: skip
    worker = make_worker(sections, HANG_URL=hanging.url)
    worker.start()
    bursts = [
        json.dumps(
            {
                "event_id": f"stall-{actor}-{i}",
                "time": f"2026-03-02T13:00:{10 * i:02d}Z",
                "actor": {"id": actor, "type": "human"},
                "action": "login",
                "category": "authentication",
                "outcome": "failure",
                "source": {"ip": "203.0.113.50"},
                "origin": {"system": "metrics.test"},
            }
        ).encode()
        for actor in ("ann", "bob", "cid", "dee")
        for i in range(5)
    ]
    produce(kafka_bootstrap, topics.raw, bursts)
    stalled = ("auditwatch_partition_stalled", (("partition", "0"), ("topic", topics.alerts)))

    def gauge() -> float | None:
        try:
            return scrape(port).get(stalled)
        except OSError:
            return None

    wait_until(lambda: gauge() == 1, 60, "the alerts partition to be reported stalled", worker)
    stall = [a for a in alerts_of(kafka_bootstrap, topics.alerts, 5) if a["rule_id"] == STALL_RULE]
    assert len(stall) == 1
    assert stall[0]["group"] == {"topic": topics.alerts, "partition": "0"}
    assert "made no progress" in stall[0]["summary"]

    hanging.released.set()
    wait_until(lambda: gauge() == 0, 60, "the stall to end once the receiver answers", worker)
    found = alerts_of(kafka_bootstrap, topics.alerts, 6)
    assert [a["rule_id"] for a in found if a["rule_id"].startswith(STALL_RULE)] == [STALL_RULE, RESUMED_RULE]
    wait_until(
        lambda: {STALL_RULE, RESUMED_RULE} <= {b["alert"]["rule_id"] for b in hanging.bodies},
        60, "the stall and its resolution to be delivered like any alert", worker,
    )  # fmt: skip
    assert worker.alive()
    worker.stop()


def alerts_of(bootstrap: str, topic: str, expect: int) -> list[dict[str, Any]]:
    return [json.loads(record.value) for record in read_topic(bootstrap, topic, expect=expect, timeout=30)]
