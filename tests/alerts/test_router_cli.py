"""The on-call commands' argument checks, which fail before Kafka is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli_routes import alerts_app, parse_labels, routes_app, silence_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("AUDITWATCH_CONFIG", raising=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (['team=~".*"', "--comment", "x"], "must not match the empty string"),
        (["nonsense", "--comment", "x"], "is not a matcher"),
        (['a="1"', "--comment", "x", "--duration", "soon"], "is not a duration"),
        (['a="1"', "--comment", "x", "--start", "2024-05-01T10:00:00"], "has no time zone"),
        (['a="1"', "--comment", "x", "--end", "yesterday"], "is not a time"),
        (['a="1"', "--comment", ""], "comment"),
    ],
)
def test_silence_add_refuses_bad_input_with_a_reason(args: list[str], message: str) -> None:
    result = CliRunner().invoke(silence_app, ["add", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_labels_are_name_value_pairs() -> None:
    assert parse_labels(["severity=critical", 'entity="actor.id=alice"', '{a="1", b="2"}']) == {
        "severity": "critical",
        "entity": "actor.id=alice",
        "a": "1",
        "b": "2",
    }
    with pytest.raises(ValueError, match="give labels as name=value"):
        parse_labels(['severity=~"crit.*"'])


def test_routes_test_reports_an_unreadable_label_or_config() -> None:
    config = str(REPO / "config" / "router.yaml")
    result = CliRunner().invoke(routes_app, ["test", "--config", config, 'severity=~"x"'])
    assert result.exit_code == 2 and "give labels as name=value" in result.output
    result = CliRunner().invoke(routes_app, ["test", "--config", "missing.yaml", "a=b"])
    assert result.exit_code == 2 and "router config not found" in result.output
    result = CliRunner().invoke(routes_app, ["test", "--config", config, "--cases", "missing.yaml"])
    assert result.exit_code == 2 and "cases file not found" in result.output


def test_the_tree_shows_the_routes_an_alert_visits() -> None:
    config = str(REPO / "config" / "router.yaml")
    result = CliRunner().invoke(routes_app, ["test", "--config", config, "--tree", "severity=low"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Matching routes:"
    assert lines[1].startswith("(root)  receiver: console")
    assert lines[2].startswith('└── {severity=~"low|info"}  receiver: console')
    assert lines[2].endswith("muted in: out-of-hours  (final)")
    assert lines[-1] == "console"


def test_alerts_redeliver_needs_a_readable_config(tmp_path: Path) -> None:
    bad = tmp_path / "auditwatch.yaml"
    bad.write_text("alerts: {router: nowhere.yaml}\n")
    result = CliRunner().invoke(alerts_app, ["--config", str(bad)])  # its one command
    assert result.exit_code == 2
    assert "router config not found" in result.output
