from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from detectors.events import AuditEvent
from detectors.models.features import FEATURES, EntityLimits, Population, new_entity, observe


def event(minute: int, ip: str = "198.51.100.7", action: str = "s3.GetObject", **extra: Any) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"e{minute}-{ip}",
            "time": datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=minute),
            "actor": {"id": "alice", "type": "human"},
            "action": action,
            "category": "api_activity",
            "outcome": "success",
            "source": {"ip": ip, "user_agent": "Mozilla/5.0"},
            "resource": {"name": "reports"},
            "origin": {"system": "aws.cloudtrail"},
            "extra": extra,
        }
    )


def test_features_are_in_unit_interval_and_name_novelty() -> None:
    entity, population = new_entity(), Population()
    for minute in range(20):
        observe(event(minute), entity, population)
    seen = observe(event(21), entity, population)
    new = observe(event(22, ip="203.0.113.9", action="iam.CreateAccessKey"), entity, population)
    assert set(seen.features) == set(FEATURES)
    assert all(0.0 <= v <= 1.0 for v in new.features.values())
    assert seen.features["new_ip"] == 0.0 and new.features["new_ip"] == 1.0
    assert new.features["new_network"] == 1.0 and new.features["new_action"] == 1.0
    assert new.facts["new_network"] == "203.0.113.0/24"
    assert new.features["action_rarity"] > seen.features["action_rarity"]


def test_volume_is_measured_against_the_entity() -> None:
    entity, population = new_entity(), Population()
    for minute in range(10):
        observe(event(minute, bytes=10_000), entity, population)
    big = observe(event(11, bytes=10_000_000), entity, population)
    assert big.features["volume"] > 0.7
    assert "volume" in big.facts


def test_entity_state_is_bounded_json_whatever_the_traffic() -> None:
    entity, population = new_entity(), Population(cap=64)
    limits = EntityLimits(cap=16)
    for minute in range(3000):
        observe(
            event(minute, ip=f"10.{minute // 250}.{minute % 250}.1", action=f"a{minute}"),
            entity,
            population,
            limits,
        )
    size = len(json.dumps(entity))
    assert size < 4000
    assert all(len(table) <= 16 for table in entity["seen"].values())
    assert len(population.actions) <= 64
    assert json.loads(json.dumps(entity)) == entity
