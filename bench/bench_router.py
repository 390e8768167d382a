"""The alert router: alerts/s to a local HTTP receiver, and the latency it adds.

Run with a broker up (``make kafka-start``)::

    python -m bench.bench_router [--alerts 2000] [--latency-alerts 200] [--runs 3] [--no-worker]

A receiver runs in its own process on 127.0.0.1 and records when each alert
arrives. Every alert is its own group (``group_by: [...]``, ``group_wait: 0s``),
so each alert is one signed webhook notification, and the router is compared
with sending the same payloads without it:

- *direct POST* (baseline): each alert as a one-alert notification, signed and
  POSTed with httpx, 8 at a time;
- *router core*: the same alerts through the router in-process (route, group,
  dedup against the notification log, pending, delivery with retries), 8
  deliveries at a time;
- *Kafka consumer + direct POST* (baseline): a plain aiokafka consumer of
  ``audit.alerts`` posting each alert as above;
- *auditwatch worker*: a real worker's route and router agents, from
  ``audit.alerts`` through the routed topic, ticks and delivery tasks.

Throughput floods N alerts (for the Kafka paths, pre-published; the clock runs
from the first arrival to the last). Latency sends alerts one at a time, 20 ms
apart, and measures from hand-over (or publication) to arrival; on the Kafka
paths it is measured once the path has settled after the flood (a worker goes
on writing the flood's state to its changelog topics for a while; the time it
takes is printed). Each figure is the median of the runs; ratios are to the
baseline of the same kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from alerts.delivery import RetryPolicy
from alerts.integrations.delivery import IntegrationSender, ParkedGroupNotification
from alerts.integrations.webhook import WebhookNotifier
from alerts.model import Alert, build_alert
from alerts.notification import AlertState, Notification, notification_id, routing_labels
from alerts.router.config import parse_router_config
from alerts.router.dispatch import DeliveryJob, GroupDispatcher, IntegrationRef
from alerts.router.inhibit import ActiveAlerts, Inhibitor
from alerts.router.messages import DeliveryResult
from alerts.router.silence import Silencer, Silences
from alerts.router.spec import RouterSpec
from detectors.findings import Finding, Severity

REPO = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONCURRENCY = 8
PARTITIONS = 2
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROUTER: dict[str, Any] = {
    "route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s", "group_interval": "1h"},
    "receivers": [
        {
            "name": "hook",
            "webhook_configs": [
                {"url_env": "BENCH_HOOK_URL", "secret_env": "BENCH_HOOK_SECRET", "concurrency": CONCURRENCY}
            ],
        }
    ],
}


# -- the receiver, in its own process ----------------------------------------------------------------


def _serve(port: int, ready: Any) -> None:
    from aiohttp import web

    arrivals: list[tuple[str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        for alert in json.loads(body)["alerts"]:
            arrivals.append((alert["fingerprint"], now))
        return web.Response(status=200)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def reset(request: web.Request) -> web.Response:
        arrivals.clear()
        return web.Response(status=204)

    app = web.Application()
    app.add_routes([web.post("/hook", hook), web.get("/stats", stats), web.post("/reset", reset)])
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        ready = multiprocessing.get_context("fork").Event()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self.port, ready), daemon=True
        )
        self.process.start()
        ready.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.reset()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{self.port}/reset", method="POST"))

    def arrivals(self) -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats") as response:
            return {fingerprint: at for fingerprint, at in json.load(response)}

    def wait_for(self, count: int, timeout: float = 600) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.arrivals()
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise RuntimeError(f"only {len(self.arrivals())} of {count} alerts arrived")

    def wait_for_alert(self, fingerprint: str, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.arrivals().get(fingerprint)
            if found is not None:
                return found
            time.sleep(0.02)
        raise RuntimeError(f"alert {fingerprint} did not arrive")

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- inputs ------------------------------------------------------------------------------------------


def make_alerts(count: int, tag: str) -> list[Alert]:
    rng = random.Random(count)
    alerts = []
    for i in range(count):
        entity = f"{tag}-user{i}"
        alerts.append(
            build_alert(
                Finding(
                    rule_id="failed_login_burst",
                    rule_title="Burst of failed logins",
                    severity=rng.choice([Severity.HIGH, Severity.MEDIUM, Severity.CRITICAL]),
                    group={"actor.id": entity},
                    count=5,
                    threshold=">= 5 in 60s",
                    window_start=T0,
                    window_end=T0 + timedelta(seconds=60),
                    first_seen=T0 + timedelta(seconds=1),
                    last_seen=T0 + timedelta(seconds=40),
                    evidence=tuple(
                        {
                            "event_id": f"{entity}-{k}",
                            "actor": entity,
                            "action": "login",
                            "outcome": "failure",
                        }
                        for k in range(5)
                    ),
                )
            )
        )
    return alerts


def single(alert: Alert, now: datetime) -> Notification:
    state = AlertState.received(alert, now, 300.0)
    return Notification(
        id=notification_id(alert.id, "direct", 1),
        group_id=alert.id,
        group_key=alert.id,
        receiver="hook",
        integration="hook/webhook/0",
        group_labels=routing_labels(alert),
        alerts=(state,),
        now=now,
    )


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


# -- in-process paths -----------------------------------------------------------------------------------


class Direct:
    """The baseline: each alert POSTed as its own notification, CONCURRENCY at a time."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.notifier = WebhookNotifier("hook/webhook/0", url, SECRET, client)
        self.slots = asyncio.Semaphore(CONCURRENCY)

    async def send(self, alert: Alert) -> None:
        async with self.slots:
            result = await self.notifier.notify(single(alert, datetime.now(UTC)))
            assert result.ok, result.detail


class Core:
    """The router in-process: the dispatcher and one integration's sender."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.spec = RouterSpec.of(parse_router_config(ROUTER))
        active = ActiveAlerts(self.spec.inhibit_rules)
        self.dispatcher = GroupDispatcher(
            self.spec,
            groups={},
            alerts={},
            nflog={},
            integrations={"hook": [IntegrationRef("hook/webhook/0", True)]},
            inhibitor=Inhibitor(active),
            silencer=Silencer(Silences()),
        )

        async def park(item: ParkedGroupNotification) -> None:
            raise RuntimeError(f"parked: {item.reason}")

        notifier = WebhookNotifier("hook/webhook/0", url, SECRET, client)
        self.sender = IntegrationSender(notifier, RetryPolicy(), park, concurrency=CONCURRENCY)
        self.in_flight: set[str] = set()

    async def send(self, alert: Alert) -> None:
        """Ingest, flush at once (as a tick would), deliver and record, as the router agent does."""
        now = datetime.now(UTC)
        for routed in self.dispatcher.route(alert, now):
            self.dispatcher.ingest(routed, 0, now)
        jobs = self.dispatcher.flush_due(0, now, self.in_flight).jobs
        self.in_flight.update(job.key for job in jobs)
        await asyncio.gather(*(self._deliver(job) for job in jobs))

    async def _deliver(self, job: DeliveryJob) -> None:
        outcome = await self.sender.send(job.notification)
        assert outcome.delivered, outcome.detail
        notification = job.notification
        self.dispatcher.record(
            DeliveryResult(
                group_id=notification.group_id,
                integration=job.integration,
                notification_id=notification.id,
                outcome="delivered",
                at=datetime.now(UTC),
            )
        )
        self.in_flight.discard(job.key)


async def in_process(
    make: Callable[[httpx.AsyncClient, str], Direct | Core],
    receiver: Receiver,
    flood: list[Alert],
    probes: list[Alert],
) -> tuple[float, list[float]]:
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
    async with httpx.AsyncClient(limits=limits) as client:
        path = make(client, receiver.url)
        receiver.reset()
        began = time.perf_counter()
        await asyncio.gather(*(path.send(alert) for alert in flood))
        rate = len(flood) / (time.perf_counter() - began)
        receiver.reset()
        sent_at = {}
        for alert in probes:
            sent_at[alert.id] = time.time()
            await path.send(alert)
            await asyncio.sleep(0.02)
        arrived = receiver.wait_for(len(probes))
        return rate, [arrived[fp] - at for fp, at in sent_at.items()]


# -- through Kafka -----------------------------------------------------------------------------------


async def publish(bootstrap: str, topic: str, alerts: list[Alert]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for alert in alerts:
            await producer.send(topic, alert.to_json_bytes(), key=alert.id.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def publish_slowly(bootstrap: str, topic: str, alerts: list[Alert]) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent_at = {}
    try:
        for alert in alerts:
            sent_at[alert.id] = time.time()
            await producer.send_and_wait(topic, alert.to_json_bytes(), key=alert.id.encode())
            await asyncio.sleep(0.02)
    finally:
        await producer.stop()
    return sent_at


async def consume_and_post(bootstrap: str, topic: str, url: str, stop: asyncio.Event) -> None:
    """The Kafka baseline: consume audit.alerts, POST each alert directly."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with httpx.AsyncClient() as client:
            direct = Direct(client, url)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=50)
                records = [r for records in batch.values() for r in records]
                await asyncio.gather(*(direct.send(Alert.from_json_bytes(r.value)) for r in records))
    finally:
        await consumer.stop()


async def settle(
    bootstrap: str, topic: str, receiver: Receiver, limit: float = 0.3, timeout: float = 120
) -> float:
    """Publish one alert at a time until one arrives within ``limit`` seconds; returns the seconds waited.

    After a flood, a worker still writes the flood's state to its changelogs for a
    while; latency is measured once that backlog is gone, as on a router at rest.
    """
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        (canary,) = make_alerts(1, f"canary{uuid.uuid4().hex[:6]}")
        sent_at = (await publish_slowly(bootstrap, topic, [canary]))[canary.id]
        arrived = await asyncio.to_thread(receiver.wait_for_alert, canary.id)
        if arrived - sent_at <= limit:
            break
    return time.monotonic() - began


def rate_of(arrivals: dict[str, float], fingerprints: list[str]) -> float:
    times = sorted(arrivals[fp] for fp in fingerprints)
    return (len(times) - 1) / (times[-1] - times[0])


def kafka_baseline(
    bootstrap: str, receiver: Receiver, flood: list[Alert], probes: list[Alert]
) -> tuple[float, list[float]]:
    topic = f"bench{uuid.uuid4().hex[:6]}.audit.alerts"

    async def run() -> tuple[float, list[float]]:
        await publish(bootstrap, topic, flood)
        receiver.reset()
        stop = asyncio.Event()
        task = asyncio.create_task(consume_and_post(bootstrap, topic, receiver.url, stop))
        arrived = await asyncio.to_thread(receiver.wait_for, len(flood))
        rate = rate_of(arrived, [a.id for a in flood])
        await settle(bootstrap, topic, receiver)
        receiver.reset()
        sent_at = await publish_slowly(bootstrap, topic, probes)
        arrived = await asyncio.to_thread(receiver.wait_for, len(probes))
        stop.set()
        await task
        return rate, [arrived[fp] - at for fp, at in sent_at.items()]

    return asyncio.run(run())


def worker_path(
    bootstrap: str, receiver: Receiver, flood: list[Alert], probes: list[Alert], workdir: Path
) -> tuple[float, list[float]]:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topic = prefix + "audit.alerts"
    (workdir / "router.yaml").write_text(json.dumps(ROUTER))
    (workdir / "auditwatch.yaml").write_text(
        json.dumps(
            {
                "kafka": {"partitions": PARTITIONS},
                "rules": {"dir": str(REPO / "config" / "rules")},
                "alerts": {"router": "router.yaml", "router_tick": 0.05},
            }
        )
    )
    env = {
        **os.environ,
        "AUDITWATCH_CONFIG": str(workdir / "auditwatch.yaml"),
        "AUDITWATCH_KAFKA_BOOTSTRAP": bootstrap,
        "AUDITWATCH_APP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "AUDITWATCH_TOPIC_PREFIX": prefix,
        "AUDITWATCH_STATE_DIR": str(workdir / "state"),
        "BENCH_HOOK_URL": receiver.url,
        "BENCH_HOOK_SECRET": SECRET,
    }
    from pipeline.config import load_config
    from pipeline.topics import ensure_topics, pipeline_topics

    os.environ.update({k: v for k, v in env.items() if k.startswith("AUDITWATCH_")})
    asyncio.run(ensure_topics(bootstrap, pipeline_topics(load_config(workdir / "auditwatch.yaml"))))
    asyncio.run(publish(bootstrap, topic, flood))
    receiver.reset()
    with (workdir / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("auditwatch")), "worker", "--loglevel", "warn"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        arrived = receiver.wait_for(len(flood))
        rate = rate_of(arrived, [a.id for a in flood])
        settled = asyncio.run(settle(bootstrap, topic, receiver))
        print(f"worker settled {settled:.1f} s after the flood", file=sys.stderr)
        receiver.reset()
        sent_at = asyncio.run(publish_slowly(bootstrap, topic, probes))
        arrived = receiver.wait_for(len(probes))
        return rate, [arrived[fp] - at for fp, at in sent_at.items()]
    except RuntimeError:
        print((workdir / "worker.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        process.wait(30)


# -- report ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--latency-alerts", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-worker", action="store_true", help="skip the Kafka paths")
    parser.add_argument(
        "--bootstrap", default=os.environ.get("AUDITWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    args = parser.parse_args()
    receiver = Receiver()
    rows: dict[str, list[tuple[float, list[float]]]] = {}
    try:
        for run in range(args.runs):
            tag = uuid.uuid4().hex[:6]
            flood, probes = make_alerts(args.alerts, f"f{tag}"), make_alerts(args.latency_alerts, f"p{tag}")
            rows.setdefault("direct POST (baseline)", []).append(
                asyncio.run(in_process(Direct, receiver, flood, probes))
            )
            flood, probes = make_alerts(args.alerts, f"g{tag}"), make_alerts(args.latency_alerts, f"q{tag}")
            rows.setdefault("router core, in-process", []).append(
                asyncio.run(in_process(Core, receiver, flood, probes))
            )
            if not args.no_worker:
                flood, probes = (
                    make_alerts(args.alerts, f"h{tag}"),
                    make_alerts(args.latency_alerts, f"r{tag}"),
                )
                rows.setdefault("Kafka consumer + direct POST (baseline)", []).append(
                    kafka_baseline(args.bootstrap, receiver, flood, probes)
                )
                flood, probes = (
                    make_alerts(args.alerts, f"i{tag}"),
                    make_alerts(args.latency_alerts, f"s{tag}"),
                )
                with tempfile.TemporaryDirectory() as tmp:
                    rows.setdefault("auditwatch worker (route + router agents)", []).append(
                        worker_path(args.bootstrap, receiver, flood, probes, Path(tmp))
                    )
            print(
                f"run {run + 1}/{args.runs}: "
                + ", ".join(f"{name}={values[-1][0]:,.0f}/s" for name, values in rows.items()),
                file=sys.stderr,
            )
    finally:
        receiver.stop()
    print(
        f"\n{args.alerts} alerts (throughput), {args.latency_alerts} alerts 20 ms apart (latency), "
        f"median of {args.runs} runs\n"
    )
    print(
        f"| {'path':<42} | {'alerts/s':>9} | {'ratio':>6} | {'p50 ms':>7} | {'p99 ms':>7} "
        f"| {'added p50':>9} | {'added p99':>9} |"
    )
    print(f"|{'-' * 44}|{'-' * 11}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 11}|")
    baseline: tuple[float, float, float] = (1.0, 0.0, 0.0)
    for name, values in rows.items():
        rate = statistics.median(v[0] for v in values)
        p50 = statistics.median(percentiles(v[1])[0] for v in values)
        p99 = statistics.median(percentiles(v[1])[1] for v in values)
        if "baseline" in name:
            baseline = (rate, p50, p99)
        print(
            f"| {name:<42} | {rate:>9,.0f} | {rate / baseline[0]:>6.2f} | {p50:>7.1f} | {p99:>7.1f} "
            f"| {p50 - baseline[1]:>+9.1f} | {p99 - baseline[2]:>+9.1f} |"
        )


if __name__ == "__main__":
    main()
