"""End-to-end throughput: the worker against a raw aiokafka consumer, and replay.

Run with a broker up (``make kafka-start``)::

    python -m bench.bench_pipeline [--events 20000] [--runs 3]

For each run, N audit events (a mix of logins and API calls over 500 actors,
with bursts of failures that fire the shipped rule) are published to a fresh
raw topic. Then, in the same run:

- baseline: a plain aiokafka consumer reads the whole topic (the ceiling);
- worker: a real ``auditwatch worker`` process consumes the same records; its
  rate is taken from its own Prometheus counters, from the first raw record
  read to the last event run through the rules, so start-up is not counted;
- replay: ``auditwatch replay``'s code path over the same records from a file,
  in-process, with sinks off.

It prints medians over the runs and each figure as a ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.config import AuditwatchConfig
from pipeline.produce import produce_records
from pipeline.replay import ReplayOutputs, replay
from pipeline.stages import build_stages
from pipeline.topics import TopicSpec, ensure_topics

REPO = Path(__file__).resolve().parents[1]
PARTITIONS = 4


def make_events(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    start = 1_767_225_600
    out = []
    for i in range(count):
        actor = f"user{rng.randrange(500)}"
        failed = rng.random() < 0.3
        out.append(
            json.dumps(
                {
                    "event_id": f"b{i}",
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i // 20)),
                    "actor": {"id": actor, "type": "human"},
                    "action": "login" if failed or i % 3 == 0 else "s3.GetObject",
                    "category": "authentication" if failed or i % 3 == 0 else "api_activity",
                    "outcome": "failure" if failed else "success",
                    "source": {"ip": f"198.51.100.{rng.randrange(1, 250)}"},
                    "origin": {"system": "acme.sso"},
                }
            ).encode()
        )
    return out


async def raw_consumer_rate(bootstrap: str, topic: str, expected: int) -> float:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, began = 0, time.perf_counter()
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=1000)
            for messages in batch.values():
                for message in messages:
                    json.loads(message.value)  # the least any consumer does with a record
                    seen += 1
        return expected / (time.perf_counter() - began)
    finally:
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return {}
    values = {}
    for name in ("auditwatch_records_in_total", "auditwatch_events_evaluated_total"):
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        if match:
            values[name] = float(match.group(1))
    return values


def worker_rate(bootstrap: str, prefix: str, expected: int, workdir: Path) -> float:
    port = free_port()
    env = {
        **os.environ,
        "AUDITWATCH_CONFIG": str(REPO / "config" / "bench.yaml"),
        "AUDITWATCH_KAFKA_BOOTSTRAP": bootstrap,
        "AUDITWATCH_APP_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "AUDITWATCH_TOPIC_PREFIX": prefix,
        "AUDITWATCH_METRICS_PORT": str(port),
        "AUDITWATCH_PARTITIONS": str(PARTITIONS),
        "AUDITWATCH_STATE_DIR": str(workdir / "state"),
    }
    log = (workdir / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("auditwatch")), "worker", "--loglevel", "warn"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    try:
        first_seen = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            values = scrape(port)
            now = time.perf_counter()
            if first_seen is None and values.get("auditwatch_records_in_total", 0) > 0:
                first_seen = now
            if values.get("auditwatch_events_evaluated_total", 0) >= expected and first_seen is not None:
                return expected / (now - first_seen)
            if process.poll() is not None:
                tail = (workdir / "worker.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker exited:\n{tail}")
            time.sleep(0.05)
        raise RuntimeError("worker did not finish within 600 s")
    finally:
        process.terminate()
        process.wait(30)


async def replay_rate(records: list[bytes], workdir: Path) -> float:
    path = workdir / "replay.jsonl"
    path.write_bytes(b"\n".join(records) + b"\n")
    stages = build_stages(AuditwatchConfig(), rules_dir=REPO / "config" / "rules")
    began = time.perf_counter()
    stats = await replay([str(path)], stages, None, ReplayOutputs(progress=False))
    assert stats.events == len(records)
    return len(records) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("AUDITWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    args = parser.parse_args()
    records = make_events(args.events)
    results: dict[str, list[float]] = {
        "raw aiokafka consumer (baseline)": [],
        "auditwatch worker": [],
        "auditwatch replay (no Kafka)": [],
    }
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            prefix = f"bench{uuid.uuid4().hex[:6]}."
            raw = prefix + "audit.raw"
            asyncio.run(ensure_topics(args.bootstrap, [TopicSpec(raw, PARTITIONS, 1)]))
            asyncio.run(produce_records(args.bootstrap, raw, records))
            results["raw aiokafka consumer (baseline)"].append(
                asyncio.run(raw_consumer_rate(args.bootstrap, raw, args.events))
            )
            results["auditwatch worker"].append(worker_rate(args.bootstrap, prefix, args.events, workdir))
            results["auditwatch replay (no Kafka)"].append(asyncio.run(replay_rate(records, workdir)))
        print(
            f"run {run + 1}/{args.runs}: " + ", ".join(f"{k}={v[-1]:,.0f}/s" for k, v in results.items()),
            file=sys.stderr,
        )
    baseline = statistics.median(results["raw aiokafka consumer (baseline)"])
    print(f"\n{args.events} events, {PARTITIONS} partitions, median of {args.runs} runs\n")
    print(f"| {'pipeline':<34} | {'events/s':>10} | {'ratio to baseline':>17} |")
    print(f"|{'-' * 36}|{'-' * 12}|{'-' * 19}|")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"| {name:<34} | {median:>10,.0f} | {median / baseline:>17.3f} |")


if __name__ == "__main__":
    main()
