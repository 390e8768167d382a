"""Acceptance (c): ``access check`` exits 1 listing the excess when a policy grants more than its
baseline, 0 when it does not, 2 when a file is wrong; and the containment it rests on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.access import Policy, contains, excess_grants
from pipeline.cli import app

CONFIG = Path(__file__).parents[2] / "config" / "access"


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("s3:*", "s3:Get*", True),
        ("s3:Get*", "s3:*", False),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:GetObject", "s3:Get*", False),
        ("S3:GET*", "s3:GetObjectAcl", True),  # case-insensitive, as IAM
        ("*", "iam:*", True),
        ("iam:*", "*", False),
        ("s3:*Object", "s3:Get*Object", True),
        ("s3:*ab*", "s3:*a*b*", False),  # s3:axb is in the inner, not the outer
        ("s3:Get**", "s3:Get*", True),
        ("ec2:*", "s3:GetObject", False),
    ],
)
def test_wildcard_containment(outer: str, inner: str, expected: bool) -> None:
    assert contains(outer, inner) is expected


def policy(roles: dict[str, list[str]], members: dict[str, list[str]] | None = None) -> Policy:
    return Policy.model_validate(
        {"roles": {k: {"allow": v} for k, v in roles.items()}, "members": members or {}}
    )


def test_excess_by_role_and_by_membership() -> None:
    baseline = policy({"reader": ["s3:Get*"], "admin": ["iam:*"]}, {"alice": ["reader"], "bob": ["admin"]})
    assert excess_grants(baseline, baseline) == []
    wider = policy({"reader": ["s3:*"], "admin": ["iam:*"]}, {"alice": ["reader"], "bob": ["admin"]})
    assert [str(e) for e in excess_grants(wider, baseline)] == [
        "role reader: allows s3:*, beyond the baseline's reader"
    ]
    promoted = policy(
        {"reader": ["s3:Get*"], "admin": ["iam:*"]}, {"alice": ["reader", "admin"], "bob": ["admin"]}
    )
    assert [str(e) for e in excess_grants(promoted, baseline)] == [
        "member alice: role admin brings iam:*, beyond their baseline"
    ]
    new_role = policy({"reader": ["s3:Get*"], "admin": ["iam:*"], "ops": ["ec2:Describe*"]})
    assert [(e.kind, e.role, e.pattern) for e in excess_grants(new_role, baseline)] == [
        ("role", "ops", "ec2:Describe*")
    ]
    # narrower is never an excess: a narrower pattern, a dropped role, a dropped member
    narrower = policy({"reader": ["s3:GetObject"]}, {"alice": ["reader"]})
    assert excess_grants(narrower, baseline) == []


def test_moving_a_member_between_roles_of_equal_reach_is_not_an_excess() -> None:
    baseline = policy({"a": ["s3:Get*"], "b": ["s3:GetObject"]}, {"alice": ["a"]})
    moved = policy({"a": ["s3:Get*"], "b": ["s3:GetObject"]}, {"alice": ["b"]})
    assert excess_grants(moved, baseline) == []


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    base = write(
        tmp_path / "base.yaml", "roles:\n  reader:\n    allow: ['s3:Get*']\nmembers:\n  alice: [reader]\n"
    )
    same = write(
        tmp_path / "same.yaml", "roles:\n  reader:\n    allow: [s3:GetObject]\nmembers:\n  alice: [reader]\n"
    )
    wide = write(
        tmp_path / "wide.yaml", "roles:\n  reader:\n    allow: ['s3:*']\nmembers:\n  alice: [reader]\n"
    )
    broken = write(tmp_path / "broken.yaml", "roles:\n  reader:\n    allow: ['s3:[Gg]et']\n")

    within = runner.invoke(app, ["access", "check", "--policy", str(same), "--baseline", str(base)])
    assert within.exit_code == 0 and "grants nothing beyond" in within.output
    beyond = runner.invoke(app, ["access", "check", "--policy", str(wide), "--baseline", str(base)])
    assert beyond.exit_code == 1
    assert "grants 1 permission(s) beyond" in beyond.output
    assert "role reader: allows s3:*, beyond the baseline's reader" in beyond.output
    bad = runner.invoke(app, ["access", "check", "--policy", str(broken), "--baseline", str(base)])
    assert bad.exit_code == 2
    missing = runner.invoke(
        app, ["access", "check", "--policy", str(tmp_path / "no.yaml"), "--baseline", str(base)]
    )
    assert missing.exit_code == 2


def test_the_shipped_example_policy_is_within_its_baseline() -> None:
    runner = CliRunner()
    args = [
        "access",
        "check",
        "--policy",
        str(CONFIG / "policy.yaml"),
        "--baseline",
        str(CONFIG / "baseline.yaml"),
    ]
    assert runner.invoke(app, args).exit_code == 0
    swapped = [
        "access",
        "check",
        "--policy",
        str(CONFIG / "baseline.yaml"),
        "--baseline",
        str(CONFIG / "policy.yaml"),
    ]
    assert runner.invoke(app, swapped).exit_code == 1
