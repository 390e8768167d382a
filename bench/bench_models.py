"""Detection throughput with the anomaly detectors on, against rules only; memory per entity.

Run it with::

    python -m bench.bench_models [--runs 3] [--days 2]

Throughput: a seeded simulated stream (``pipeline.simulate``) is decoded to
canonical events once; each run then evaluates every event with
``RuleEngine`` over ``config/rules`` (the baseline), and with the same engine
plus ``ModelSet`` over the default detectors in ``config/detectors``, each with
fresh state. Figures are the median of ``--runs`` runs; the ratio is to the
rules-only baseline measured in the same process.

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

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.models import ModelSet
from detectors.rules import load_ruleset
from pipeline.simulate import SimulationConfig, simulate

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "config" / "rules"
DETECTORS = ROOT / "config" / "detectors"


def stream(days: int) -> list[AuditEvent]:
    sim = simulate(SimulationConfig(seed=3, days=days, humans=30, services=4))
    return [AuditEvent.model_validate(item.data) for item in sim.events]


def rules_only(events: list[AuditEvent]) -> float:
    engine = RuleEngine(load_ruleset([RULES]))
    state: dict[str, Any] = {}
    started = time.perf_counter()
    for event in events:
        engine.evaluate(event, state)
    return len(events) / (time.perf_counter() - started)


def rules_and_models(events: list[AuditEvent]) -> float:
    engine = RuleEngine(load_ruleset([RULES]))
    models = ModelSet.from_paths([DETECTORS])
    rule_state: dict[str, Any] = {}
    model_state: dict[str, Any] = {}
    started = time.perf_counter()
    for event in events:
        engine.evaluate(event, rule_state)
        models.evaluate(event, model_state)
    return len(events) / (time.perf_counter() - started)


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
    base = statistics.median(rules_only(events) for _ in range(args.runs))
    full = statistics.median(rules_and_models(events) for _ in range(args.runs))
    print(f"{'configuration':42} {'events/s':>10} {'ratio':>7}")
    print(f"{'rules only (baseline)':42} {base:>10,.0f} {1.0:>7.2f}")
    print(f"{'rules + default detectors':42} {full:>10,.0f} {full / base:>7.2f}")
    print()
    print(f"{'entities':>10} {'how':>22} {'bytes/entity (Python)':>22} {'bytes/entity (JSON)':>20}")
    for entities, fill in ((1_000, True), (10_000, False), (100_000, False)):
        python_bytes, json_bytes = memory_per_entity(entities, fill)
        how = "events through ModelSet" if fill else "copies of a full state"
        print(f"{entities:>10,} {how:>22} {python_bytes:>22,.0f} {json_bytes:>20,.0f}")


if __name__ == "__main__":
    main()
