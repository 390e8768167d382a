"""``auditwatch rules``: lint, list, test (with JUnit XML) and explain, as a rule author runs them."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "rules"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(REPO)
    return CliRunner()


def test_lint_the_shipped_rules(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "lint", str(RULES)])
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output and " tests" in result.output


def test_list_shows_kind_level_tags_and_whether_a_rule_alerts(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "list", str(RULES)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert lines["RULE"].split()[:5] == ["RULE", "KIND", "LEVEL", "STATUS", "ALERTS"]
    assert "detection" in lines["failed_login"] and "no, feeds failed_login_burst" in lines["failed_login"]
    assert "event_count" in lines["failed_login_burst"] and "high" in lines["failed_login_burst"]
    assert "new_terms" in lines["new_country_for_user"]
    assert "sequence" in lines["mfa_fatigue"] and "attack.t1621" in lines["mfa_fatigue"]


def test_rules_test_writes_junit_and_fails_on_a_failing_test(runner: CliRunner, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = runner.invoke(app, ["rules", "test", str(RULES / "failed_logins.yml"), "--junit", str(report)])
    assert result.exit_code == 0, result.output
    assert "PASS " in result.output and "0 failed" in result.output
    suites = ElementTree.parse(report).getroot()
    assert suites.get("failures") == "0" and int(suites.get("tests", "0")) >= 5

    broken = tmp_path / "broken.yml"
    text = (RULES / "failed_logins.yml").read_text().replace("{at: 40s, count: 5", "{at: 30s, count: 5")
    broken.write_text(text)
    failing = runner.invoke(app, ["rules", "test", str(broken), "--junit", str(report)])
    assert failing.exit_code == 1
    assert "FAIL " in failing.output and "alert 1: at 40s, expected 30s" in failing.output
    case = next(
        c for c in ElementTree.parse(report).getroot().iter("testcase") if c.find("failure") is not None
    )
    assert case.get("classname") == "failed_login_burst" and case.get("line")


def test_explain_shows_the_failing_field_and_the_window(runner: CliRunner, tmp_path: Path) -> None:
    def login(second: int, outcome: str = "failure") -> dict[str, object]:
        return {
            "event_id": f"e{second}",
            "time": f"2026-01-01T00:00:{second:02d}Z",
            "actor": {"id": "alice"},
            "action": "login",
            "category": "authentication",
            "outcome": outcome,
            "origin": {"system": "acme.sso"},
        }

    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(login(s)) for s in (0, 5, 10)) + "\n")
    result = runner.invoke(
        app, ["rules", "explain", "failed_login_burst", str(events), "--rules", str(RULES)]
    )
    assert result.exit_code == 0, result.output
    assert "uses failed_login: matches this event" in result.output
    assert "window: 2 event(s) between 2026-01-01 00:00:00 and 2026-01-01 00:00:05" in result.output

    single = tmp_path / "success.json"
    single.write_text(json.dumps(login(0, "success")))
    result = runner.invoke(app, ["rules", "explain", "failed_login", str(single), "--rules", str(RULES)])
    assert result.exit_code == 0, result.output
    assert "[no ] outcome: outcome is 'success', which does not match 'failure'" in result.output
    assert "=> no match" in result.output

    unknown = runner.invoke(app, ["rules", "explain", "nope", str(single), "--rules", str(RULES)])
    assert unknown.exit_code == 2 and "no rule named 'nope'" in unknown.output
