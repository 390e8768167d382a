"""The ``auditwatch`` command: replay, lint, schema and config errors, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo.jsonl"
MIXED = REPO / "tests" / "formats" / "data" / "mixed_with_broken.log"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("AUDITWATCH_WEBHOOK_URL", "AUDITWATCH_WEBHOOK_SECRET", "AUDITWATCH_SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    return CliRunner()


def test_replay_of_the_demo_sample_alerts_and_dead_letters_with_line_numbers(
    runner: CliRunner, tmp_path: Path
) -> None:
    alerts, letters = tmp_path / "alerts.jsonl", tmp_path / "dead.jsonl"
    result = runner.invoke(
        app, ["replay", str(DEMO), "--alerts-out", str(alerts), "--dead-letter", str(letters)]
    )
    assert result.exit_code == 0, result.output
    (alert,) = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert alert["rule_id"] == "failed_login_burst"
    assert alert["group"] == {"actor.id": "alice"}
    assert alert["count"] == 5
    dead = [json.loads(line) for line in letters.read_text().splitlines()]
    assert [d["line"] for d in dead] == [41, 121, 201]
    assert all(d["file"] == str(DEMO) and d["reason"] for d in dead)
    assert "demo.jsonl:41: rejected: invalid JSON" in result.output
    assert "replayed 319 records: 316 events, 3 rejected, 1 alerts" in result.output


def test_replay_reads_stdin(runner: CliRunner, tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.jsonl"
    result = runner.invoke(app, ["replay", "-", "--alerts-out", str(alerts)], input=DEMO.read_bytes())
    assert result.exit_code == 0, result.output
    assert len(alerts.read_text().splitlines()) == 1


def test_replay_of_a_mixed_file_accepts_good_records_and_dead_letters_the_broken(
    runner: CliRunner, tmp_path: Path
) -> None:
    expected = json.loads((MIXED.parent / "mixed_with_broken.expected.json").read_text())
    letters = tmp_path / "dead.jsonl"
    result = runner.invoke(app, ["replay", str(MIXED), "--dead-letter", str(letters), "--no-send"])
    assert result.exit_code == 0, result.output
    dead = {json.loads(line)["line"]: json.loads(line)["reason"] for line in letters.read_text().splitlines()}
    rejected = {int(line): spec for line, spec in expected_rejections(expected).items()}
    assert set(dead) == set(rejected)
    for line, fragment in rejected.items():
        assert fragment in dead[line], (line, dead[line])
    assert f"{len(rejected)} rejected" in result.output


def expected_rejections(expected: dict[str, object]) -> dict[str, str]:
    lines = expected.get("lines", expected)
    assert isinstance(lines, dict)
    return {k: v["rejected"] for k, v in lines.items() if isinstance(v, dict) and "rejected" in v}


def test_unreadable_input_fails_with_a_clear_message(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "missing.jsonl: no such file" in result.output


def test_rules_lint_reports_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("title: x\nlogsource: {}\ndetection:\n  sel: {a: 1}\nlevel: loud\n")
    result = runner.invoke(app, ["rules", "lint", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.yml:3: detection: detection needs a 'condition'" in result.output
    assert "bad.yml:5: level" in result.output
    ok = runner.invoke(app, ["rules", "lint", str(REPO / "config" / "rules")])
    assert ok.exit_code == 0 and "ok:" in ok.output


def test_config_typo_is_rejected_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "auditwatch.yaml"
    config.write_text("kafka:\n  partitions: 2\ningest:\n  max_record_bytse: 5\n")
    result = runner.invoke(app, ["replay", "--config", str(config), str(DEMO)])
    assert result.exit_code == 2
    assert f"{config}:4: ingest.max_record_bytse: unknown key" in result.output


def test_secret_in_config_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "auditwatch.yaml"
    config.write_text("alerts:\n  sinks:\n    - type: webhook\n      url: https://example.invalid/x\n")
    result = runner.invoke(app, ["replay", "--config", str(config), str(DEMO)])
    assert result.exit_code == 2
    assert "url_env" in result.output
    assert "example.invalid" not in result.output


def test_schema_prints_the_event_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert {"event_id", "time", "actor", "action", "origin"} <= set(schema["required"])
