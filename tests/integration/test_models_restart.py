"""A real worker killed mid-stream resumes its anomaly models warm (issue 6 acceptance).

A real ``auditwatch worker`` (models on, no rules, two partitions) is fed
53,000 simulated canonical events on its events topic and killed with SIGKILL
once it has committed 50,000 of them; a second worker takes over and
processes the rest. The models are then read back from the worker's state
changelog (per partition: the shared-model checkpoints and the per-entity
state) and score 1,000 probe events that neither run has seen. An
uninterrupted in-process run over the same events, partition by partition in
offset order, scores the same probes.

Tolerance, on the calibrated probe scores of each detector whose state lives
in one partition (grouped by actor): the per-service rate detector's mean
absolute difference is below 0.01 and its 99th percentile below 0.05; the
behaviour detector's below 0.2 and 0.45. The differences come from the kill:
the shared models resume from the checkpoint of the last batch, and the events
after the last commit are processed again (at-least-once), so they are learned
twice. HalfSpaceTrees then swaps its reference window at other events than the
uninterrupted run does, which moves the behaviour scores by about 0.1 on
average for good (measured in-process with 300 to 500 events processed twice);
without duplicates the resume is exact (``tests/pipeline/test_models_wiring.py``).
Cold models differ from the reference by more than twice the mean tolerance
(about 0.8 for the behaviour detector), which the test checks, so it fails if
the models restart cold. Detectors grouped by tenant count events of both
partitions, so their scores depend on how the worker interleaved the
partitions; for them the test checks that they resumed warm and up to date.
"""

from __future__ import annotations

import heapq
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from detectors.events import AuditEvent
from detectors.models import ModelSet
from pipeline.partition_models import PartitionModels, scope_of
from pipeline.simulate import SimulationConfig, simulate
from tests.integration.conftest import Topics, Worker, read_topic, wait_until
from tests.integration.models_worker import (
    changelog_topic,
    committed,
    partition_of,
    publish_events,
    read_state,
)

REPO = Path(__file__).resolve().parents[2]
DETECTORS = REPO / "config" / "detectors"
PARTITIONS = 2
KILL_AFTER = 50_000
AFTER = 3_000
PROBES = 1_000
TOLERANCE = {"actor_behaviour": (0.2, 0.45), "service_rate": (0.01, 0.05)}
"""Detector: (mean, 99th percentile) of the absolute differences of calibrated probe scores."""


def score_probes(
    models: PartitionModels, state: dict[str, Any], probes: list[AuditEvent]
) -> list[dict[str, float]]:
    return [models.get(partition_of(e, PARTITIONS), state).run(e, state).scores for e in probes]


def differences(a: list[dict[str, float]], b: list[dict[str, float]], detector: str) -> list[float]:
    return sorted(abs(x.get(detector, 0.0) - y.get(detector, 0.0)) for x, y in zip(a, b, strict=True))


def uninterrupted(
    template: ModelSet, bootstrap: str, topic: str, count: int
) -> tuple[PartitionModels, dict[str, Any]]:
    """The events as the worker received them: each partition in offset order, partitions merged by time."""
    records = read_topic(bootstrap, topic, expect=count, timeout=120)
    assert len(records) == count
    per_partition: dict[int, list[tuple[int, AuditEvent]]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        per_partition.setdefault(record.partition, []).append(
            (record.partition, AuditEvent.model_validate_json(record.value))
        )
    models, state = PartitionModels(template), {}  # type: ignore[var-annotated]
    for partition, event in heapq.merge(*per_partition.values(), key=lambda item: item[1].time):
        models.get(partition, state).run(event, state)
    return models, state


def test_models_resume_warm_after_the_worker_is_killed(
    kafka_bootstrap: str, topics: Topics, make_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    started = time.monotonic()
    simulated = simulate(SimulationConfig(seed=4, days=10, humans=40, services=8)).events
    events = [AuditEvent.model_validate(item.data) for item in simulated]
    fed, probes = events[: KILL_AFTER + AFTER], events[KILL_AFTER + AFTER :][:PROBES]
    assert len(probes) == PROBES
    no_rules, detectors = tmp_path / "no-rules", tmp_path / "detectors"
    no_rules.mkdir()
    shutil.copytree(DETECTORS, detectors)  # one version of the documents for both workers and the reference
    sections = {
        "kafka": {"partitions": PARTITIONS},
        "rules": {"dir": str(no_rules)},
        "detectors": {"dir": str(detectors), "enabled": True},
    }

    first = make_worker(sections)
    first.start()
    app_id = first.env["AUDITWATCH_APP_ID"]
    publish_events(kafka_bootstrap, topics.events, fed)

    def done() -> int:
        return committed(kafka_bootstrap, app_id, topics.events)

    wait_until(lambda: done() >= KILL_AFTER, 420, f"the worker to commit {KILL_AFTER} events", first)
    first.kill()
    at_kill = done()
    assert KILL_AFTER <= at_kill < len(fed), f"not killed mid-stream: {at_kill} committed"

    second = make_worker(sections)
    second.start()
    wait_until(lambda: done() == len(fed), 300, "the restarted worker to commit every event", second)
    second.stop()
    assert "Traceback" not in first.log() + second.log(), second.log()[-4000:]

    template = ModelSet.from_paths([detectors], checkpoint_every=0)
    state = read_state(kafka_bootstrap, changelog_topic(app_id))
    for partition in range(PARTITIONS):
        resumed = ModelSet([r.spec for r in template.runners], checkpoint_every=0, scope=scope_of(partition))
        assert sorted(resumed.restore(state)) == sorted(template.names), f"partition {partition} not restored"
    restarted = PartitionModels(template)
    reference, reference_state = uninterrupted(template, kafka_bootstrap, topics.events, len(fed))

    report: dict[str, Any] = {"committed at kill": at_kill}
    for partition in range(PARTITIONS):
        for mine, theirs in zip(
            restarted.get(partition, state).runners,
            reference.get(partition, reference_state).runners,
            strict=True,
        ):
            behind = theirs.events - mine.events
            report[f"p{partition} {mine.spec.name} events behind"] = behind
            # warm and up to date: ahead (negative) by the events processed twice
            assert theirs.events > 0 and abs(behind) <= 3_000, report

    after = score_probes(restarted, state, probes)
    expected = score_probes(reference, reference_state, probes)
    cold = score_probes(PartitionModels(template), {}, probes)
    for detector, (mean_tolerance, p99_tolerance) in TOLERANCE.items():
        diffs, cold_diffs = differences(after, expected, detector), differences(cold, expected, detector)
        mean, p99 = sum(diffs) / len(diffs), diffs[int(0.99 * (len(diffs) - 1))]
        cold_mean = sum(cold_diffs) / len(cold_diffs)
        report[detector] = {"mean": round(mean, 5), "p99": round(p99, 5), "cold mean": round(cold_mean, 5)}
        assert mean < mean_tolerance and p99 < p99_tolerance, report
        assert cold_mean > 2 * mean_tolerance, report  # a cold restart would fail the tolerance
    report["seconds"] = round(time.monotonic() - started)
    print("models restart:", report)
