"""Detection throughput with the anomaly detectors on, against rules only; memory per entity.

Run it with::

    python -m bench.bench_models [--runs 3] [--days 2]

Throughput: a seeded simulated stream (``pipeline.simulate``) is decoded to
canonical events once; each run then passes every event through the worker's
detect stage (``Stages.detect``, alerts built), built by ``build_stages`` from a
config with ``config/rules`` and the detectors off (the baseline), and on (the
default detectors in ``config/detectors``), each with fresh state. The two are
measured alternately in the same process; figures are the median of ``--runs``
runs, and the ratio is to the rules-only baseline.

Checkpoint: the time and changelog bytes of one partition's checkpoint of the
warm default detectors (what the worker writes every 2,000 events or 10 s of a
partition, ``pipeline.partition_models``).

Memory per entity: the state one actor leaves in the caller's mapping (the
behaviour detector's features and, for a service account, the rate detector's
counters), filled to its caps: 1,000 entities are filled by running events
through ``ModelSet`` (a check on the copies); 10,000 and 100,000 by copying one
filled state (the caps make every filled state the same size). Measured with
``tracemalloc`` as Python objects, and as JSON bytes (what a changelog stores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detectors.events import AuditEvent
from detectors.models import ModelSet
from pipeline.config import AuditwatchConfig
from pipeline.simulate import SimulationConfig, simulate
from pipeline.stages import build_stages

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "config" / "rules"
DETECTORS = ROOT / "config" / "detectors"


def stream(days: int) -> list[AuditEvent]:
    sim = simulate(SimulationConfig(seed=3, days=days, humans=30, services=4))
    return [AuditEvent.model_validate(item.data) for item in sim.events]


def detect_rate(events: list[AuditEvent], models: bool) -> float:
    """Events/s through ``Stages.detect``, with the default detectors on or off."""
    config = AuditwatchConfig.model_validate(
        {"rules": {"dir": str(RULES)}, "detectors": {"dir": str(DETECTORS), "enabled": models}}
    )
    stages = build_stages(config)
    assert (stages.models is not None) == models
    state: dict[str, Any] = {}
    started = time.perf_counter()
    for event in events:
        stages.detect(event, state)
    return len(events) / (time.perf_counter() - started)


def checkpoint_cost(events: list[AuditEvent]) -> tuple[float, int]:
    """(seconds, JSON bytes) of one checkpoint of warm default detectors."""
    models = ModelSet.from_paths([DETECTORS], checkpoint_every=0)
    state: dict[str, Any] = {}
    for event in events[:20_000]:
        models.evaluate(event, state)
    started = time.perf_counter()
    models.checkpoint(state)
    seconds = time.perf_counter() - started
    written = sum(len(json.dumps(value)) for key, value in state.items() if "@checkpoint" in key)
    return seconds, written


def entity_events(actor: str, count: int) -> list[AuditEvent]:
    """Events that fill an actor's TTL sets: a new IP, agent, resource and action each time."""
    base = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return [
        AuditEvent.model_validate(
            {
                "event_id": f"{actor}-{i}",
                "time": base + timedelta(minutes=7 * i),
                "actor": {"id": actor, "type": "service"},
                "action": f"svc.Action{i}",
                "category": "api_activity",
                "outcome": "success",
                "source": {"ip": f"10.{i}.{i}.{i + 1}", "user_agent": f"agent/{i}"},
                "resource": {"name": f"bucket-{i}"},
                "origin": {"system": "aws.cloudtrail"},
                "extra": {"bytes": 1000 * i, "geo": {"country": f"C{i}"}},
            }
        )
        for i in range(count)
    ]


def memory_per_entity(entities: int, fill: bool) -> tuple[float, float]:
    """(tracemalloc bytes, JSON bytes) per entity in the state mapping."""
    models = ModelSet.from_paths([DETECTORS], checkpoint_every=0)
    template: dict[str, Any] = {}
    for event in entity_events("template", 24):
        models.evaluate(event, template)
    state: dict[str, Any] = {}
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    if fill:
        for n in range(entities):
            for event in entity_events(f"actor-{n}", 18):
                models.evaluate(event, state)
    else:
        text = {key: json.dumps(value) for key, value in template.items()}
        for n in range(entities):
            for key, value in text.items():
                state[key.replace("template", f"actor-{n}")] = json.loads(value)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    entity_keys = [k for k in state if "@checkpoint" not in k and "tenant_id" not in k]
    json_bytes = sum(len(k) + len(json.dumps(state[k])) for k in entity_keys)
    return (after - before) / entities, json_bytes / entities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    events = stream(args.days)
    print(f"{len(events)} simulated events, median of {args.runs} runs")
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.runs):
        for models in (False, True):
            rates[models].append(detect_rate(events, models))
    base, full = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"{'configuration (Stages.detect)':42} {'events/s':>10} {'ratio':>7}")
    print(f"{'rules only (baseline)':42} {base:>10,.0f} {1.0:>7.2f}")
    print(f"{'rules + default detectors':42} {full:>10,.0f} {full / base:>7.2f}")
    seconds, written = checkpoint_cost(events)
    print(f"checkpoint of one partition's warm detectors: {seconds * 1000:.1f} ms, {written:,} bytes of JSON")
    print()
    print(f"{'entities':>10} {'how':>22} {'bytes/entity (Python)':>22} {'bytes/entity (JSON)':>20}")
    for entities, fill in ((1_000, True), (10_000, False), (100_000, False)):
        python_bytes, json_bytes = memory_per_entity(entities, fill)
        how = "events through ModelSet" if fill else "copies of a full state"
        print(f"{entities:>10,} {how:>22} {python_bytes:>22,.0f} {json_bytes:>20,.0f}")


if __name__ == "__main__":
    main()
