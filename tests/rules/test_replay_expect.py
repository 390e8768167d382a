"""``auditwatch replay --expect``: a backtest fails on too few, too many or unexpected alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo.jsonl"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("AUDITWATCH_WEBHOOK_URL", "AUDITWATCH_WEBHOOK_SECRET", "AUDITWATCH_SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    return CliRunner()


def replay(runner: CliRunner, tmp_path: Path, expectations: str) -> tuple[int, str]:
    path = tmp_path / "expect.yml"
    path.write_text(expectations)
    result = runner.invoke(app, ["replay", str(DEMO), "--no-send", "--expect", str(path)])
    return result.exit_code, result.output


def test_met_expectations_pass(runner: CliRunner, tmp_path: Path) -> None:
    code, output = replay(
        runner, tmp_path, "expect:\n  failed_login_burst: {exactly: 1}\n  password_spraying: {at_most: 0}\n"
    )
    assert code == 0, output
    assert "expectations met (2 rules)" in output


def test_too_few_too_many_and_unexpected_alerts_fail(runner: CliRunner, tmp_path: Path) -> None:
    code, output = replay(runner, tmp_path, "expect:\n  mass_download: {at_least: 1}\n")
    assert code == 1
    assert "expectation not met: mass_download: 0 alerts, expected at least 1" in output
    assert "expectation not met: failed_login_burst: 1 unexpected alert" in output
    code, output = replay(
        runner, tmp_path, "expect:\n  failed_login_burst: {at_most: 0}\nallow_other_alerts: true\n"
    )
    assert code == 1 and "failed_login_burst: 1 alert, expected at most 0" in output


def test_a_bad_expectations_file_is_refused_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    code, output = replay(runner, tmp_path, "expect:\n  failed_login_burst: {exactly: 1, at_least: 1}\n")
    assert code == 2
    assert "expect.yml:2: expect.failed_login_burst: give exactly, or at_least and/or at_most" in output
