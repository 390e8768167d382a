"""Acceptance (e): a wrong policy file, pattern, duration or --now is refused with file, line and
what to change, by the loader and by the CLI (exit 2, no traceback)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.access import load_policy, parse_duration
from pipeline.access.actions import pattern_problem
from pipeline.cli import app
from pipeline.errors import ConfigError

STREAM = Path(__file__).parent / "data" / "stream.jsonl"

BROKEN = """\
roles:
  reader:
    allow:
      - s3:GetObject
      - "*:Get*"
      - s3
  writer:
    alow: [s3:PutObject]
  auditor:
    allow: logs:*
members:
  alice: [reader]
"""


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    return str(caught.value).splitlines()


def test_every_mistake_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    assert problems(path) == [
        f"invalid policy {path}:",
        f"  {path}:5: roles.reader.allow.1: '*:Get*': the service part cannot hold a wildcard; "
        "name the service (s3:Get*) or use *",
        f"  {path}:6: roles.reader.allow.2: 's3' has no service prefix; write service:Operation, "
        "e.g. s3:GetObject or s3:*",
        f"  {path}:8: roles.writer.alow: unknown key; check its spelling or remove it",
        f"  {path}:10: roles.auditor.allow: allow must be a list, e.g. allow: [logs:*]",
    ]


def test_a_member_of_an_undefined_role_points_at_the_member(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "roles:\n  reader:\n    allow: [s3:GetObject]\nmembers:\n  alice: [reader]\n  bob: [raeder]\n"
    )
    assert problems(path)[1] == (
        f"  {path}:6: members.bob: role 'raeder' is not defined under roles: (defined: reader); "
        "add it or fix the name"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("roles:\n  a: {allow: [x:y]\n", ":3: YAML syntax error"),
        ("- just\n- a list\n", "a policy must be a single YAML map"),
        (
            "roles:\n  a:\n    allow: ['s3:Get?']\n",
            ":3: roles.a.allow.0: 's3:Get?': '?' is not allowed; only *",
        ),
        ("roles: {}\nusers: {}\n", ":2: users: unknown key"),
        ("roles:\n  a:\n    allow: [s3:GetObject, *]\n", ":3: YAML syntax error: expected alphabetic"),
        ("roles:\n  a:\n    allow: [s3:GetObject, *]\n", 'must be quoted, e.g. allow: ["*"]'),
    ],
)
def test_other_mistakes(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    assert expected in "\n".join(problems(path))


def test_pattern_rules() -> None:
    assert [pattern_problem(p) for p in ("s3:GetObject", "s3:Get*", "*", "acme.sso:login", "k8s:get")] == [
        None
    ] * 5
    assert pattern_problem("") is not None and pattern_problem(3) is not None


def test_durations() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("30m") == timedelta(minutes=30)
    for bad in ("90", "3w", "0d", "-1d", "1.5h", ""):
        with pytest.raises(ConfigError, match=r"write a whole number|longer than zero"):
            parse_duration(bad)


def test_the_cli_reports_errors_in_one_line_with_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    policy = tmp_path / "policy.yaml"
    policy.write_text(BROKEN, encoding="utf-8")
    cases = [
        (["--policy", str(policy)], f"{policy}:8: roles.writer.alow: unknown key"),
        (["--since", "3w"], "duration '3w': write a whole number and d, h or m"),
        (["--now", "yesterday"], "--now 'yesterday': not an ISO 8601 time"),
        (["--now", "2026-03-31T00:00:00"], "--now '2026-03-31T00:00:00': add a zone"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["access", "review", str(STREAM), *extra])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["access", "review", str(tmp_path / "nothing.jsonl")])
    assert missing.exit_code == 2 and "nothing.jsonl: no such file or directory" in missing.output
