"""The canonical schema: one source for the worker and the SDK, versioned, with explicit upgrades."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

import auditwatch_sdk.schema as sdk_schema
import detectors.events as events

EVENT: dict[str, Any] = {
    "event_id": "e1",
    "time": "2026-01-01T00:00:00Z",
    "actor": {"id": "alice"},
    "action": "login",
    "origin": {"system": "acme.sso"},
}


def test_the_worker_and_the_sdk_share_one_definition() -> None:
    for name in events.__all__:
        assert getattr(events, name) is getattr(sdk_schema, name), name
    assert events.Severity.parse("high").label == "high"


def test_every_event_carries_the_schema_version() -> None:
    event = events.AuditEvent.model_validate(EVENT)
    assert event.schema_version == sdk_schema.SCHEMA_VERSION == "1.0"
    assert '"schema_version":"1.0"' in event.model_dump_json()


def test_the_published_schema_is_versioned() -> None:
    schema = sdk_schema.json_schema()
    assert schema["$id"].endswith(":1.0")
    assert schema["x-schema-version"] == "1.0"
    assert schema["properties"]["schema_version"]["const"] == "1.0"
    assert {"event_id", "time", "actor", "action", "origin"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("version", ["2.0", "0.9", "1", ""])
def test_an_unknown_version_is_rejected_with_what_to_do(version: str) -> None:
    with pytest.raises(ValidationError) as info:
        events.AuditEvent.model_validate({**EVENT, "schema_version": version})
    (error,) = info.value.errors()
    assert error["loc"] == ("schema_version",)
    assert "not supported by this reader (it reads 1.0)" in error["msg"]


def test_a_known_older_version_is_upgraded_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_0_9(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["actor"] = {"id": data.pop("user")}
        return data

    monkeypatch.setitem(sdk_schema.UPGRADES, "0.9", ("1.0", from_0_9))
    old = {k: v for k, v in EVENT.items() if k != "actor"} | {"schema_version": "0.9", "user": "bob"}
    event = events.AuditEvent.model_validate(old)
    assert (event.schema_version, event.actor.id) == ("1.0", "bob")
    assert sdk_schema.upgrade(old)["schema_version"] == "1.0"


def test_the_sdk_imports_without_the_worker_dependencies() -> None:
    code = (
        "import sys, auditwatch_sdk; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'faust', 'river', 'sklearn', 'aiokafka', 'detectors', 'pipeline', 'alerts', 'numpy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_worker_dead_letters_an_unsupported_version_with_the_reason() -> None:
    import json

    from pipeline.formats import FormatContext, default_registry
    from pipeline.ingest import Rejection, accept_record

    payload = json.dumps({**EVENT, "schema_version": "2.0"}).encode()
    result = accept_record(payload, default_registry(), FormatContext())
    assert isinstance(result, Rejection)
    assert result.field == "schema_version"
    assert "version '2.0' is not supported by this reader" in result.reason
