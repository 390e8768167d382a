"""ECS: nested and dotted keys, actors, categories, trace ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext
from pipeline.formats.ecs import EcsAdapter


@pytest.fixture
def ssh(sample: Callable[[str], Any]) -> dict[str, Any]:
    record: dict[str, Any] = sample("ecs_system_auth_ssh_failed.json")
    return record


def test_dotted_and_nested_keys_mean_the_same(ssh: dict[str, Any], ctx: FormatContext) -> None:
    dotted = {
        "@timestamp": ssh["@timestamp"],
        "event.action": "ssh_login",
        "event.category": ["authentication"],
        "event.outcome": "failure",
        "event.dataset": "system.auth",
        "user.name": "root",
        "source.ip": "89.160.20.156",
    }
    (nested_event,) = EcsAdapter().adapt(ssh, ctx)
    (dotted_event,) = EcsAdapter().adapt(dotted, ctx)
    fields = {"actor", "action", "category", "outcome", "source", "origin", "time"}
    assert dotted_event.model_dump(include=fields) == nested_event.model_dump(include=fields)


def test_a_dotted_key_that_clashes_is_noted(ctx: FormatContext) -> None:
    record = {
        "@timestamp": "2024-01-01T00:00:00Z",
        "event": {"action": "x", "dataset": "a.b"},
        "user": "not-an-object",
        "user.name": "ana",
        "host.name": "web-1",
    }
    (event,) = EcsAdapter().adapt(record, ctx)
    assert event.actor.id == "web-1"  # user.name could not be placed under "user"
    assert any("user.name: clashes" in note for note in event.extra["oddities"])
    assert record["user"] == "not-an-object", "the record itself is not changed"


def test_sudo_event_without_action(sample: Callable[[str], Any], ctx: FormatContext) -> None:
    (event,) = EcsAdapter().adapt(sample("ecs_system_auth_sudo.json"), ctx)
    assert event.action == "process"
    assert event.actor.authenticated_as == "root"
    assert any("event.action" in note for note in event.extra["oddities"])


@pytest.mark.parametrize(
    ("categories", "types", "expected"),
    [
        (["authentication"], ["start"], "authentication"),
        (["iam"], ["user", "creation"], "account_change"),
        (["iam"], ["group", "change"], "account_change"),
        (["network"], ["denied"], "authorization"),
        (["configuration"], ["change"], "entity_management"),
        (["web"], ["access"], "api_activity"),
        (["process"], ["start"], "other"),
        ("authentication", [], "authentication"),
    ],
)
def test_categories(
    ssh: dict[str, Any], ctx: FormatContext, categories: Any, types: list[str], expected: str
) -> None:
    record = dict(ssh, event=dict(ssh["event"], category=categories, type=types))
    (event,) = EcsAdapter().adapt(record, ctx)
    assert event.category.value == expected


def test_trace_ids_that_are_not_w3c_are_kept_in_extra(ctx: FormatContext) -> None:
    record = {
        "@timestamp": "2024-01-01T00:00:00Z",
        "event": {"action": "x"},
        "user": {"name": "ana"},
        "trace": {"id": "NOT-A-TRACE"},
        "span": {"id": "00f067aa0ba902b7"},
    }
    (event,) = EcsAdapter().adapt(record, ctx)
    assert event.trace_id is None and event.extra["trace_id"] == "NOT-A-TRACE"
    assert event.span_id == "00f067aa0ba902b7"


def test_the_system_falls_back_to_ecs(ctx: FormatContext) -> None:
    record = {"@timestamp": "2024-01-01T00:00:00Z", "event": {"action": "x"}, "user": {"id": "42"}}
    (event,) = EcsAdapter().adapt(record, ctx)
    assert (event.origin.system, event.actor.id) == ("ecs", "42")


def test_no_actor_at_all_is_rejected(ctx: FormatContext) -> None:
    with pytest.raises(RecordRejected, match=r"user\.name: required field is missing"):
        EcsAdapter().adapt({"@timestamp": "2024-01-01T00:00:00Z", "event": {"action": "x"}}, ctx)
