from __future__ import annotations

import json
from pathlib import Path

from detectors.events import AuditEvent
from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, accept_record
from pipeline.simulate import ATTACK_TYPES, SimulationConfig, simulate, write_formats, write_jsonl

CONFIG = SimulationConfig(seed=5, days=3, humans=6, services=2)


def test_the_same_seed_gives_the_same_stream(tmp_path: Path) -> None:
    write_jsonl(simulate(CONFIG), tmp_path / "a.jsonl")
    write_jsonl(simulate(CONFIG), tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_every_attack_type_is_injected_and_labelled() -> None:
    stream = simulate(CONFIG)
    labelled = {item.label["attack"] for item in stream.events if item.label is not None}
    assert labelled == set(ATTACK_TYPES)
    assert {a.type for a in stream.attacks} == set(ATTACK_TYPES)
    assert any(t.endswith("_slow") for t in labelled)


def test_events_are_canonical_and_in_time_order() -> None:
    stream = simulate(CONFIG)
    events = [AuditEvent.model_validate(item.data) for item in stream.events]
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_the_input_formats_are_accepted_by_the_adapters(tmp_path: Path) -> None:
    stream = simulate(CONFIG)
    paths = write_formats(stream, tmp_path)
    registry, ctx = default_registry(), FormatContext()
    total = 0
    for name in ("okta", "cloudtrail"):
        for line in paths[name].read_text().splitlines():
            outcome = accept_record(line.encode(), registry, ctx)
            assert isinstance(outcome, Accepted), (name, outcome)
            total += len(outcome.events)
    assert total == len(stream.events)
    labels = [json.loads(line) for line in paths["labels"].read_text().splitlines()]
    assert len(labels) == sum(1 for item in stream.events if item.label is not None)
