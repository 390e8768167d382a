"""The models resume warm after a crash: kill a detect loop after 50,000 events, restart it, compare.

The loop (``tests/integration/models_worker.py``) keeps the models' state in a
compacted changelog topic on the real broker, as the worker's Faust table does.
After the restart, scores are compared with an uninterrupted in-process run over
the same events. The loop checkpoints the shared models just before each offset
commit, so they resume exactly as of the committed offset; what can still
differ is per-entity state written for events after that offset that are then
processed again (at-least-once). The tolerance: for every detector, the mean
absolute difference of the calibrated scores after the restart is below 0.01,
and 99% of them differ by less than 0.05.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from detectors.events import AuditEvent
from detectors.models import ModelSet
from pipeline.simulate import SimulationConfig, simulate

REPO = Path(__file__).resolve().parents[2]
KILL_AFTER = 50_000


async def _setup(bootstrap: str, events: str, changelog: str, payloads: list[bytes]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(events, num_partitions=1, replication_factor=1),
                NewTopic(
                    changelog,
                    num_partitions=1,
                    replication_factor=1,
                    topic_configs={"cleanup.policy": "compact"},
                ),
            ]
        )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for start in range(0, len(payloads), 2000):
            sent = [await producer.send(events, p) for p in payloads[start : start + 2000]]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _worker(bootstrap: str, events: str, changelog: str, group: str, scores: Path, *extra: str) -> int:
    command = [
        sys.executable,
        "-m",
        "tests.integration.models_worker",
        bootstrap,
        events,
        changelog,
        group,
        str(scores),
        *extra,
    ]
    return subprocess.run(command, cwd=REPO, timeout=900, check=False).returncode


def test_models_resume_warm_after_a_kill(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = simulate(SimulationConfig(seed=4, days=10, humans=40, services=8))
    assert len(stream.events) > KILL_AFTER + 5_000
    payloads = [json.dumps(item.data).encode() for item in stream.events]
    name = f"models-{uuid.uuid4().hex[:8]}"
    events, changelog, group = f"{name}.events", f"{name}-model-state-changelog", f"{name}-group"
    asyncio.run(_setup(kafka_bootstrap, events, changelog, payloads))

    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    killed = _worker(kafka_bootstrap, events, changelog, group, before, "--die-after", str(KILL_AFTER))
    assert killed == -9
    assert _worker(kafka_bootstrap, events, changelog, group, after) == 0

    restarted: dict[str, dict[str, float]] = {}
    for line in after.read_text().splitlines():
        record = json.loads(line)
        restarted[record["id"]] = record["scores"]
    assert len(before.read_text().splitlines()) == KILL_AFTER
    assert len(restarted) >= len(payloads) - KILL_AFTER

    models, state = ModelSet.from_paths([REPO / "config" / "detectors"]), {}  # type: ignore[var-annotated]
    reference: dict[str, dict[str, float]] = {}
    for item in stream.events:
        event = AuditEvent.model_validate(item.data)
        reference[event.event_id] = models.run(event, state).scores
    differences: dict[str, list[float]] = {}
    for event_id, scores in restarted.items():
        for detector, score in scores.items():
            differences.setdefault(detector, []).append(abs(score - reference[event_id].get(detector, 0.0)))
    first = [restarted[i].get("actor_behaviour", 0.0) for i in list(restarted)[:500]]
    assert sum(s > 0 for s in first) > 400, "the behaviour model restarted cold"
    report: dict[str, Any] = {}
    for detector, diffs in differences.items():
        diffs.sort()
        mean = sum(diffs) / len(diffs)
        p99 = diffs[int(0.99 * (len(diffs) - 1))]
        report[detector] = (len(diffs), round(mean, 5), round(p99, 5))
        assert mean < 0.01 and p99 < 0.05, report
    print("restart: (events, mean |diff|, p99 |diff|) per detector:", report)
