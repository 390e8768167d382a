from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from detectors.events import AuditEvent
from detectors.models.features import (
    FEATURES,
    EntityLimits,
    Population,
    learn,
    measure,
    new_entity,
    observe,
)
from detectors.models.novelty import KNOWN_LEVEL_WEIGHT


def event(
    minute: int,
    ip: str = "198.51.100.7",
    action: str = "s3.GetObject",
    resource: str = "reports",
    **extra: Any,
) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"e{minute}-{ip}",
            "time": datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=minute),
            "actor": {"id": "alice", "type": "human"},
            "action": action,
            "category": "api_activity",
            "outcome": "success",
            "source": {"ip": ip, "user_agent": "Mozilla/5.0"},
            "resource": {"name": resource},
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


def test_a_new_home_ip_in_the_usual_country_weighs_less_than_a_new_country() -> None:
    entity, population = new_entity(), Population()
    for minute in range(20):
        observe(event(minute, geo={"country": "DE"}), entity, population)
    home = measure(event(30, ip="81.31.73.46", geo={"country": "DE"}), entity, population)
    abroad = measure(event(30, ip="81.31.73.46", geo={"country": "RU"}), entity, population)
    assert home.features["new_country"] == 0.0 and abroad.features["new_country"] == 1.0
    assert home.features["new_ip"] == home.features["new_network"] == KNOWN_LEVEL_WEIGHT
    assert abroad.features["new_ip"] == abroad.features["new_network"] == 1.0
    assert home.features["novelty"] < abroad.features["novelty"]
    assert home.facts["new_ip"] == "81.31.73.46 (usual country DE)"
    # measuring reads only: neither IP was learned
    assert (
        measure(event(31, ip="81.31.73.46", geo={"country": "DE"}), entity, population).features["new_ip"] > 0
    )


def test_a_flood_of_one_off_resources_does_not_evict_the_actors_habits() -> None:
    entity, population = new_entity(), Population()
    for minute in range(20):
        observe(event(minute), entity, population)  # "reports", every time
    for minute in range(20, 80):
        observe(event(minute, resource=f"finance-archive/{minute}"), entity, population, EntityLimits(cap=16))
    back = measure(event(81), entity, population)
    assert back.features["new_resource"] == 0.0
    assert all(len(table) <= 16 for table in entity["seen"].values())


def test_a_rare_action_the_actor_already_uses_weighs_less() -> None:
    entity, population = new_entity(), Population()
    for minute in range(200):
        observe(event(minute, action="s3.GetObject"), entity, population)
    other = new_entity()
    observe(event(0, action="iam.ListUsers"), other, population)
    first = measure(event(300, action="iam.ListUsers"), entity, population)
    observe(event(301, action="iam.ListUsers"), entity, population)
    habit = measure(event(302, action="iam.ListUsers"), entity, population)
    assert first.features["action_rarity"] > 0.5
    assert habit.features["action_rarity"] <= first.features["action_rarity"] * KNOWN_LEVEL_WEIGHT + 1e-9


def test_a_flagged_event_does_not_become_known_to_the_profile() -> None:
    entity, population = new_entity(), Population()
    for minute in range(20):
        observe(event(minute), entity, population)
    attack = event(21, ip="203.0.113.9", action="iam.CreateAccessKey", resource="secrets/db", bytes=10**9)
    learn(attack, entity, population, measure(attack, entity, population), flagged=True)
    again = measure(  # later in the same burst
        event(50, ip="203.0.113.9", action="iam.CreateAccessKey", resource="secrets/db"),
        entity,
        population,
    )
    assert again.features["new_ip"] == 1.0 and again.features["new_network"] == 1.0
    assert again.features["new_action"] == 1.0 and again.features["new_resource"] == 1.0
    assert entity["vn"] == 0.0 and population.vn == 0.0  # its volume taught no baseline
    assert entity["n"] == 21  # but it counts as one of the entity's events


def test_flagged_new_resources_do_not_count_in_the_hour_after_a_burst() -> None:
    entity, population = new_entity(), Population()
    for minute in range(30):
        observe(event(minute), entity, population)
    for i in range(60):
        burst = event(30, resource=f"customer-exports/{i}")
        learn(burst, entity, population, measure(burst, entity, population), flagged=True)
    after = measure(event(50), entity, population)
    assert after.features["new_resources_hour"] == 0.0
    assert after.features["failure_short"] == 0.0


def test_a_flagged_value_stays_new_through_its_burst_and_is_known_on_a_later_occasion() -> None:
    entity, population = new_entity(), Population()
    for minute in range(20):
        observe(event(minute), entity, population)

    def flag(minute: int) -> float:
        listing = event(minute, action="iam.ListUsers")
        obs = measure(listing, entity, population)
        learn(listing, entity, population, obs, flagged=True)
        return obs.features["new_action"]

    assert [flag(30 + 5 * i) for i in range(12)] == [1.0] * 12  # the hour of its burst: still new
    assert flag(30 + 13 * 60) == 0.0  # another occasion: an admin's new habit, not an alert every day
