"""Acceptance (d): ``auditwatch access review`` as a table for people and as stable JSON for the API.

Expectations come from the hand computation in test_access_hand.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.access import FORMAT, load_policy
from pipeline.access.report import AccessReview
from pipeline.cli import app

DATA = Path(__file__).parent / "data"
ARGS = ["access", "review", str(DATA / "stream.jsonl"), "--since", "30d", "--now", "2026-03-31T00:00:00Z"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "160")  # wide enough that no cell wraps
    return CliRunner()


def test_json_output_is_the_documented_shape_and_stable(runner: CliRunner) -> None:
    first = runner.invoke(app, [*ARGS, "--policy", str(DATA / "policy.yaml"), "--format", "json"])
    second = runner.invoke(app, [*ARGS, "--policy", str(DATA / "policy.yaml"), "--format", "json"])
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    data = json.loads(first.output)
    assert data["format"] == FORMAT
    assert list(data) == [
        "format",
        "window",
        "policy",
        "input",
        "principals",
        "roles",
        "unassigned",
        "proposed_policy",
        "proposal_rule",
    ]
    assert data["window"] == {"since": "30d", "start": "2026-03-01T00:00:00Z", "end": "2026-03-31T00:00:00Z"}
    bob = next(p for p in data["principals"] if p["principal"] == "bob")
    assert bob["used"][2] == {
        "action": "s3:GetObject",
        "count": 1,
        "unconfirmed": 1,
        "resource_types": ["object"],
        "first_seen": "2026-03-13T10:00:00Z",
        "last_seen": "2026-03-13T10:00:00Z",
        "granted_by": ["reader"],
    }
    assert bob["denied"] == [
        {"action": "s3:PutObject", "count": 1, "last_seen": "2026-03-11T10:00:00Z", "granted_by": []}
    ]
    AccessReview.model_validate(data)  # the JSON reads back into the model the API documents


def test_table_output(runner: CliRunner) -> None:
    result = runner.invoke(app, [*ARGS, "--policy", str(DATA / "policy.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Access review, last 30d: 2026-03-01 00:00 to 2026-03-31 00:00 UTC; 14 of 16 events" in out
    alice = next(line for line in out.splitlines() if line.startswith("│ alice"))
    cells = [cell.strip() for cell in alice.strip("│").split("│")]
    assert cells == [
        "alice",
        "reader, writer",
        "s3:GetObject x2",
        "s3:DeleteObject x1",
        "s3:DeleteObject",
        "-",
    ]
    assert "(not seen)" in out  # dave
    assert "Seen with no role: arn:aws:iam::123456789012:user/erin, carol" in out
    assert "# Least-privilege policy proposed by auditwatch access review." in out


def test_table_without_a_policy_has_no_policy_columns(runner: CliRunner) -> None:
    result = runner.invoke(app, ARGS)
    assert result.exit_code == 0, result.output
    assert "no policy given" in result.output
    assert "granted, unused" not in result.output and "Roles" not in result.output


def test_propose_writes_a_policy_that_loads_and_is_within_the_original(
    runner: CliRunner, tmp_path: Path
) -> None:
    proposed = tmp_path / "proposed.yaml"
    result = runner.invoke(app, [*ARGS, "--policy", str(DATA / "policy.yaml"), "--propose", str(proposed)])
    assert result.exit_code == 0, result.output
    policy = load_policy(proposed)
    assert policy.roles["auditor"].allow == ("logs:GetLogEvents",)
    check = runner.invoke(
        app, ["access", "check", "--policy", str(proposed), "--baseline", str(DATA / "policy.yaml")]
    )
    assert check.exit_code == 0, check.output
