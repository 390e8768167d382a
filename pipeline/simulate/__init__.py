"""The attack simulator: a seeded population's normal activity with labelled attacks injected.

``simulate(SimulationConfig(seed=...))`` is reproducible: the same config gives
byte-for-byte the same stream. Every attack event carries
``extra.label = {"attack": <type>, "id": <attack id>}``; normal events carry no label.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.simulate.attacks import ATTACK_TYPES, Attack, inject
from pipeline.simulate.formats import write_formats
from pipeline.simulate.generator import SimEvent, human_days, iso, service_days
from pipeline.simulate.population import build_population

__all__ = [
    "ATTACK_TYPES",
    "Attack",
    "SimEvent",
    "SimulatedStream",
    "SimulationConfig",
    "simulate",
    "write_formats",
    "write_jsonl",
]


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = 1
    days: int = 7
    humans: int = 40
    services: int = 8
    attacks: bool = True
    start: str = "2026-03-02T00:00:00+00:00"
    """A Monday."""


@dataclass
class SimulatedStream:
    config: SimulationConfig
    events: list[SimEvent]
    attacks: list[Attack]


def simulate(config: SimulationConfig) -> SimulatedStream:
    rng = random.Random(config.seed)
    start = datetime.fromisoformat(config.start).timestamp()
    people, services = build_population(rng, config.humans, config.services)
    events: list[SimEvent] = []
    for person in people:
        events.extend(human_days(rng, person, start, config.days))
    for service in services:
        events.extend(service_days(rng, service, start, config.days))
    attacks: list[Attack] = []
    if config.attacks:
        injected, attacks = inject(rng, people, services, start, config.days)
        events.extend(injected)
    events.sort(key=lambda item: item.time)
    for number, item in enumerate(events):
        item.order = number
        item.data = {
            "event_id": f"sim-{config.seed}-{number:08d}",
            "time": iso(item.time),
            **item.data,
        }
        if item.label is not None:
            item.data["extra"] = {**item.data.get("extra", {}), "label": item.label}
    return SimulatedStream(config, events, attacks)


def write_jsonl(stream: SimulatedStream, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for item in stream.events:
            handle.write(json.dumps(item.data, separators=(",", ":")) + "\n")
