"""Fixtures for tests against the real Kafka broker and real HTTP receivers.

``make test`` starts a local broker with ``scripts/kafka.sh`` and exports
``AUDITWATCH_KAFKA_BOOTSTRAP``. Without a reachable broker these tests FAIL:
a missing broker must never pass as a skipped test. Deselect them explicitly
with ``-m 'not kafka'`` when working offline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

REPO = Path(__file__).resolve().parents[2]
AUDITWATCH = str(Path(sys.executable).with_name("auditwatch"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("AUDITWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")

    async def probe() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    try:
        asyncio.run(asyncio.wait_for(probe(), 30))
    except Exception as exc:  # any failure to reach the broker fails the test loudly
        pytest.fail(
            f"Kafka is not reachable at {bootstrap} ({type(exc).__name__}: {exc}). "
            "Run the suite with `make test`, or start a broker with `scripts/kafka.sh start`.",
            pytrace=False,
        )
    return bootstrap


@dataclass
class Topics:
    prefix: str

    def __getattr__(self, name: str) -> str:
        names = {
            "raw": "audit.raw",
            "events": "audit.events",
            "dlq": "audit.dlq",
            "alerts": "audit.alerts",
            "alerts_dlq": "audit.alerts.dlq",
        }
        if name not in names:
            raise AttributeError(name)
        return self.prefix + names[name]


@pytest.fixture
def topics() -> Topics:
    return Topics(f"t{uuid.uuid4().hex[:10]}.")


def produce(bootstrap: str, topic: str, records: list[bytes], key: bytes | None = None) -> None:
    """Publish records from a separate producer, as a real source would."""

    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, max_request_size=16 * 1024 * 1024, acks="all"
        )
        await producer.start()
        try:
            for record in records:
                await producer.send_and_wait(topic, record, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def list_topics(bootstrap: str) -> set[str]:
    async def run() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return asyncio.run(run())


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 60.0) -> list[Any]:
    """Every record of ``topic`` from the start, once at least ``expect`` are there (or timeout)."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=32 * 1024 * 1024,
        )
        await consumer.start()
        found: list[Any] = []
        try:
            deadline = time.monotonic() + timeout
            partitions: set[int] | None = None
            while time.monotonic() < deadline and partitions is None:
                partitions = consumer.partitions_for_topic(topic)
                if partitions is None:
                    await consumer._client.force_metadata_update()  # topic may not exist yet
                    await asyncio.sleep(0.5)
            if partitions is None:
                return found
            tps = [TopicPartition(topic, p) for p in partitions]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while time.monotonic() < deadline and len(found) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    found.extend(messages)
        finally:
            await consumer.stop()
        return found

    return asyncio.run(run())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Statuses to answer with, in order; 200 once they run out."""

    def wait_for(self, count: int, timeout: float = 90.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.requests) < count:
            time.sleep(0.2)
        return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = state.statuses.pop(0) if state.statuses else 200
            if status == 200:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Worker:
    """A real ``auditwatch worker`` process."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the worker and return once it has created the pipeline's topics."""
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [AUDITWATCH, "worker", "--loglevel", "info"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        raw = self.env["AUDITWATCH_TOPIC_PREFIX"] + "audit.raw"
        bootstrap = self.env["AUDITWATCH_KAFKA_BOOTSTRAP"]
        wait_until(
            lambda: raw in list_topics(bootstrap) or not self.alive(), 60, f"the worker to create {raw}", self
        )
        assert self.alive(), f"the worker exited at start\n{self.log()[-4000:]}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def make_worker(
    kafka_bootstrap: str, topics: Topics, receiver: Receiver, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []
    app_id = f"aw-test-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "auditwatch.yaml"
    config.write_text(
        json.dumps(
            {
                "kafka": {"partitions": 2},
                "rules": {"dir": str(REPO / "config" / "rules")},
                "alerts": {
                    "sinks": [
                        {
                            "name": "hook",
                            "type": "webhook",
                            "min_severity": "info",
                            "url_env": "TEST_WEBHOOK_URL",
                            "secret_env": "TEST_WEBHOOK_SECRET",
                        }
                    ],
                    "delivery": {"max_attempts": 3, "base_delay": 0.2, "max_delay": 1.0},
                },
            }
        )
    )

    def make(sections: dict[str, Any] | None = None, **extra_env: str) -> Worker:
        """A worker; ``sections`` are added to its config file (``{"archive": {...}}``)."""
        path = config
        if sections:
            path = tmp_path / f"auditwatch-{len(workers)}.yaml"
            path.write_text(json.dumps({**json.loads(config.read_text()), **sections}))
        env = {
            **os.environ,
            "AUDITWATCH_CONFIG": str(path),
            "AUDITWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "AUDITWATCH_APP_ID": app_id,
            "AUDITWATCH_TOPIC_PREFIX": topics.prefix,
            "AUDITWATCH_STATE_DIR": str(tmp_path / "state"),
            "TEST_WEBHOOK_URL": receiver.url,
            "TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **extra_env,
        }
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.kill()


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, worker: Worker | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    log = worker.log()[-4000:] if worker else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n--- worker log tail ---\n{log}")
