"""``auditwatch schema`` and ``auditwatch schema check``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

GOOD = {
    "event_id": "e1",
    "time": "2026-01-01T00:00:00Z",
    "actor": {"id": "alice"},
    "action": "login",
    "origin": {"system": "acme.sso"},
}


def test_schema_prints_the_versioned_json_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$id"] == "urn:auditwatch:schema:audit-event:1.0"
    out = tmp_path / "schema.json"
    assert CliRunner().invoke(app, ["schema", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_check_reports_each_bad_event_with_its_line(tmp_path: Path) -> None:
    sample = tmp_path / "events.jsonl"
    lines = [
        json.dumps(GOOD),
        json.dumps({**GOOD, "schema_version": "2.0"}),
        "",
        json.dumps({**GOOD, "time": "2026-01-01T00:00:00"}),
        "[1, 2",
    ]
    sample.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["schema", "check", str(sample)])
    assert result.exit_code == 1
    assert f"{sample}:2: schema_version: version '2.0' is not supported" in result.stderr
    assert f"{sample}:4: time: Value error, timestamp has no time zone" in result.stderr or (
        f"{sample}:4: time: timestamp has no time zone" in result.stderr
    )
    assert f"{sample}:5: invalid JSON" in result.stderr
    assert "1 valid, 3 invalid events" in result.stderr


def test_check_passes_a_clean_array_file(tmp_path: Path) -> None:
    sample = tmp_path / "events.json"
    sample.write_text(json.dumps([GOOD, {**GOOD, "event_id": "e2"}]))
    result = CliRunner().invoke(app, ["schema", "check", str(sample)])
    assert result.exit_code == 0, result.stderr
    assert "2 valid, 0 invalid events" in result.stderr
