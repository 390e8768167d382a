"""Acceptance (b): the review of a simulated stream reproduces hand-computed unused permissions.

The stream is ``simulate(SimulationConfig(seed=3, days=7, humans=6, services=3))``, written as
JSON lines and read back like any input. The policy, data/sim-policy.yaml, was written by hand
for that population from the simulator's role definitions (pipeline/simulate/population.py):

  ROLES     engineer: s3.GetObject s3.PutObject ec2.DescribeInstances logs.GetLogEvents k8s.get
            analyst:  s3.GetObject athena.StartQueryExecution athena.GetQueryResults s3.ListBucket
            admin:    iam.ListUsers iam.GetUser ec2.DescribeInstances s3.ListBucket iam.ListRoles
            sales:    crm.ViewAccount crm.UpdateOpportunity docs.View docs.Edit
  services  svc-00 (s3.PutObject, s3.GetObject), svc-01 (sqs.SendMessage, sqs.ReceiveMessage),
            svc-02 (dynamodb.PutItem, dynamodb.Query); every service call succeeds.
  humans    user000 analyst, user001/002/004 sales, user003 admin, user005 engineer; every
            session starts with an acme.sso login.

Each role of the policy grants its simulator actions (a dotted action is ``service:Operation``)
plus something the simulator never does: engineer s3:Delete*, analyst glue:GetTable, admin
iam:CreateUser, queue-service sqs:DeleteMessage, table-service dynamodb:Scan. A human draws
3-15 actions per session uniformly from the role's 4-5 over 5+ working days, so each uses all of
them (missing one has odds of about 1e-9). Hence, by hand:

- svc-01: used exactly sqs:SendMessage and sqs:ReceiveMessage, nothing denied; unused
  [sqs:DeleteMessage]; no attack touches it.
- user003: used acme.sso:login and the five admin actions; unused [iam:CreateUser] (iam:List*
  and iam:Get* match ListUsers/ListRoles and GetUser); no attack uses its credentials beyond
  failed logins, so nothing ungranted and acme.sso:login appears among the denied.
- user005: unused [s3:Delete*]; its privilege escalation (atk-06) used iam:AttachUserPolicy,
  which engineer does not grant.
- user002: unused [] (sales' crm:* and docs:* both matched); the slow escalation (atk-07) used
  iam:AttachUserPolicy and s3:GetObject, neither of which sales grants.
- svc-02: unused [dynamodb:Scan].
- user099 (a member never seen): all six engineer grants unused.
- user004: left out of members, so seen with no role.

Proposal: storage-service's s3:* becomes [s3:GetObject, s3:PutObject], because s3:ListBucket
(analyst, admin) is in s3:*'s family and svc-00 never used it; sales keeps crm:* and docs:*,
whose families ({ViewAccount, UpdateOpportunity}, {View, Edit}) its members used whole; admin
keeps iam:List* (family {ListUsers, ListRoles}, both used) and turns iam:Get* into iam:GetUser
(a family of one is written out). user099, never seen, loses its membership.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.access import AccessReview, review_sources
from pipeline.access.report import PrincipalReview
from pipeline.simulate import SimulatedStream, SimulationConfig, simulate, write_formats, write_jsonl

POLICY = Path(__file__).parent / "data" / "sim-policy.yaml"
CONFIG = SimulationConfig(seed=3, days=7, humans=6, services=3)
NOW = datetime(2026, 3, 9, tzinfo=UTC)  # the config's start (Monday 2026-03-02) plus 7 days

SIMULATOR_ROLES = {
    "engineer": {"s3.GetObject", "s3.PutObject", "ec2.DescribeInstances", "logs.GetLogEvents", "k8s.get"},
    "analyst": {"s3.GetObject", "athena.StartQueryExecution", "athena.GetQueryResults", "s3.ListBucket"},
    "admin": {"iam.ListUsers", "iam.GetUser", "ec2.DescribeInstances", "s3.ListBucket", "iam.ListRoles"},
    "sales": {"crm.ViewAccount", "crm.UpdateOpportunity", "docs.View", "docs.Edit"},
    "svc-00": {"s3.PutObject", "s3.GetObject"},
    "svc-01": {"sqs.SendMessage", "sqs.ReceiveMessage"},
    "svc-02": {"dynamodb.PutItem", "dynamodb.Query"},
}
POPULATION = {
    "user000": "analyst",
    "user001": "sales",
    "user002": "sales",
    "user003": "admin",
    "user004": "sales",
    "user005": "engineer",
    "svc-00": "svc-00",
    "svc-01": "svc-01",
    "svc-02": "svc-02",
}


@pytest.fixture(scope="module")
def stream() -> SimulatedStream:
    return simulate(CONFIG)


@pytest.fixture(scope="module")
def review(stream: SimulatedStream, tmp_path_factory: pytest.TempPathFactory) -> AccessReview:
    path = tmp_path_factory.mktemp("sim") / "stream.jsonl"
    write_jsonl(stream, path)
    return review_sources([str(path)], "7d", NOW, POLICY)


def principal(review: AccessReview, name: str) -> PrincipalReview:
    return next(p for p in review.principals if p.principal == name)


def test_the_policy_still_describes_the_simulated_population(stream: SimulatedStream) -> None:
    """Guard: if the simulator changes its population for seed 3, the policy's members must follow."""
    normal: dict[str, set[str]] = defaultdict(set)
    for item in stream.events:
        if item.label is None and item.data["action"] != "login":
            normal[item.data["actor"]["id"]].add(item.data["action"])
    expected = {actor: SIMULATOR_ROLES[role] for actor, role in POPULATION.items()}
    assert dict(normal) == expected, "seed 3's population changed: update tests/access/data/sim-policy.yaml"
    victims = {a.type: a.actors for a in stream.attacks}
    assert victims["privilege_escalation_exfiltration"] == ("user005",)
    assert victims["privilege_escalation_exfiltration_slow"] == ("user002",)
    assert "svc-01" not in {actor for a in stream.attacks for actor in a.actors}


def test_unused_permissions_match_the_hand_computation(review: AccessReview) -> None:
    unused = {p.principal: [u.permission for u in p.unused] for p in review.principals}
    assert unused["svc-01"] == ["sqs:DeleteMessage"]
    assert unused["svc-02"] == ["dynamodb:Scan"]
    assert unused["user003"] == ["iam:CreateUser"]
    assert unused["user005"] == ["s3:Delete*"]
    assert unused["user000"] == ["glue:GetTable"]
    assert unused["user001"] == unused["user002"] == []
    assert unused["user099"] == [
        "ec2:DescribeInstances",
        "k8s:get",
        "logs:GetLogEvents",
        "s3:Delete*",
        "s3:GetObject",
        "s3:PutObject",
    ]


def test_used_denied_and_ungranted(review: AccessReview) -> None:
    svc = principal(review, "svc-01")
    assert [u.action for u in svc.used] == ["sqs:ReceiveMessage", "sqs:SendMessage"]
    assert svc.denied == [] and svc.ungranted == []
    admin = principal(review, "user003")
    assert [u.action for u in admin.used] == [
        "acme.sso:login",
        "ec2:DescribeInstances",
        "iam:GetUser",
        "iam:ListRoles",
        "iam:ListUsers",
        "s3:ListBucket",
    ]
    assert admin.ungranted == []
    login = next(d for d in admin.denied if d.action == "acme.sso:login")
    assert login.granted_by == ["sso-user"] and login.count >= 1  # credential stuffing hit everyone
    assert "iam:AttachUserPolicy" in principal(review, "user005").ungranted
    assert principal(review, "user002").ungranted == ["iam:AttachUserPolicy", "s3:GetObject"]
    assert review.unassigned == ["user004"]
    assert principal(review, "user099").last_seen is None


def test_proposed_policy(review: AccessReview) -> None:
    roles = review.proposed_policy["roles"]
    assert roles["storage-service"] == {"allow": ["s3:GetObject", "s3:PutObject"]}
    assert roles["sales"] == {"allow": ["crm:*", "docs:*"]}
    assert roles["admin"] == {"allow": ["ec2:DescribeInstances", "iam:GetUser", "iam:List*", "s3:ListBucket"]}
    assert roles["engineer"] == {
        "allow": ["ec2:DescribeInstances", "k8s:get", "logs:GetLogEvents", "s3:GetObject", "s3:PutObject"]
    }
    assert roles["queue-service"] == {"allow": ["sqs:ReceiveMessage", "sqs:SendMessage"]}
    members = review.proposed_policy["members"]
    assert "user099" not in members  # never seen: the membership goes
    assert members["user005"] == ["sso-user", "engineer"] and members["svc-00"] == ["storage-service"]


def test_the_cloudtrail_rendering_gives_the_same_aws_permissions(
    stream: SimulatedStream, review: AccessReview, tmp_path: Path
) -> None:
    """The simulator also writes its stream as CloudTrail (AWS calls) and Okta (logins) records;
    read through those adapters, each user's AWS permissions are the native stream's, under the
    user's ARN, and the logins become okta:user.session.start."""
    paths = write_formats(stream, tmp_path)
    rendered = review_sources([str(paths["cloudtrail"]), str(paths["okta"])], "7d", NOW)
    assert rendered.input.rejected == 0
    arn = "arn:aws:iam::123456789012:user/"
    for name in ("user003", "user005", "svc-01"):
        native = {u.action for u in principal(review, name).used if not u.action.startswith("acme.sso:")}
        assert {u.action for u in principal(rendered, arn + name).used} == native
    assert [u.action for u in principal(rendered, "user003").used] == ["okta:user.session.start"]
