"""Acceptance (a): a small hand-written stream, reviewed against a hand-written policy, checked exactly.

data/stream.jsonl, window 30d back from 2026-03-31T00:00Z = [2026-03-01, 2026-03-31]:

  h-01 alice s3:GetObject      success   03-05  object
  h-02 alice s3.GetObject      success   03-06  object    (aws.cloudtrail shorthand: the same permission)
  h-03 alice s3:GetObjectAcl   success   03-07  acl
  h-04 alice s3:PutObject      success   03-08  object
  h-05 alice s3:DeleteObject   failure   03-09            (denied: not use)
  h-06 alice s3:PutObject      success   02-20            (before the window)
  h-07 bob   s3:ListBucket     success   03-10  bucket
  h-08 bob   s3:PutObject      failure   03-11            (denied)
  h-09 bob   iam:CreateUser    success   03-12  user      (no role of bob's grants it)
  h-10 bob   s3:GetObject      unknown   03-13  object    (use, unconfirmed)
  h-11 carol ec2:RunInstances  success   03-14  instance  (carol has no role)
  h-12 carol login @acme.sso   failure   03-15            (-> acme.sso:login, denied)
  ct-13 CloudTrail GetObject from s3.amazonaws.com by erin's ARN, 03-16 (-> s3:GetObject)
  h-14 alice iam:DeleteUser    success   04-02            (after the window)
  line 15 is not an event      (rejected, counted)
  h-16 bob   logs:GetLogEvents success   03-16  log-group
  h-17 carol logs:DeleteLogGroup failure 03-17            (denied)

data/policy.yaml: reader [s3:Get*, s3:ListBucket], writer [s3:PutObject, s3:DeleteObject],
auditor [logs:*], iam-admin [iam:*]; alice [reader, writer], bob [reader, auditor], dave [iam-admin].

By hand:
- alice (5 events in the window): used s3:GetObject x2, s3:GetObjectAcl x1 (both via reader's
  s3:Get*), s3:PutObject x1 (writer); denied s3:DeleteObject x1, which writer grants. Unused:
  s3:DeleteObject (writer: the attempt failed, so it is not use) and s3:ListBucket (reader).
- bob (5): used iam:CreateUser (ungranted), logs:GetLogEvents (auditor), s3:GetObject (reader,
  1 unconfirmed), s3:ListBucket (reader); denied s3:PutObject, granted by none of his roles.
  Unused: nothing (s3:Get*, s3:ListBucket and logs:* each matched something he used).
- carol (3): no role; used ec2:RunInstances (ungranted); denied acme.sso:login and
  logs:DeleteLogGroup. Unassigned.
- erin (1): s3:GetObject with no role. Unassigned.
- dave (0): a dormant member; unused iam:*.
Roles: reader used both patterns; s3:Get*'s family seen in the window is {s3:GetObject,
s3:GetObjectAcl}, both used by reader's members, so the proposal keeps s3:Get*. auditor's logs:*
family is {logs:GetLogEvents, logs:DeleteLogGroup}; only the first was used, so it is expanded
to logs:GetLogEvents. writer keeps s3:PutObject. iam-admin keeps nothing, so it goes, and so does
dave's membership; alice and bob keep both their roles, each of which granted something they used.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detectors.events import AuditEvent
from pipeline.access import AccessReview, load_policy, review_events, review_sources
from pipeline.access.sources import ReadStats, read_events
from pipeline.archive.keys import Signer
from pipeline.archive.storage import LocalStorage
from pipeline.archive.writer import ArchiveWriter, WriterSettings

DATA = Path(__file__).parent / "data"
STREAM = DATA / "stream.jsonl"
POLICY = DATA / "policy.yaml"
NOW = datetime(2026, 3, 31, tzinfo=UTC)
ERIN = "arn:aws:iam::123456789012:user/erin"


def summary(review: AccessReview) -> dict[str, Any]:
    """The review reduced to what the hand computation above states."""
    return {
        p.principal: {
            "roles": p.roles,
            "events": p.events,
            "used": {u.action: (u.count, u.unconfirmed, u.granted_by) for u in p.used},
            "denied": {d.action: (d.count, d.granted_by) for d in p.denied},
            "unused": {u.permission: u.roles for u in p.unused},
            "ungranted": p.ungranted,
        }
        for p in review.principals
    }


EXPECTED = {
    "alice": {
        "roles": ["reader", "writer"],
        "events": 5,
        "used": {
            "s3:GetObject": (2, 0, ["reader"]),
            "s3:GetObjectAcl": (1, 0, ["reader"]),
            "s3:PutObject": (1, 0, ["writer"]),
        },
        "denied": {"s3:DeleteObject": (1, ["writer"])},
        "unused": {"s3:DeleteObject": ["writer"], "s3:ListBucket": ["reader"]},
        "ungranted": [],
    },
    ERIN: {
        "roles": [],
        "events": 1,
        "used": {"s3:GetObject": (1, 0, [])},
        "denied": {},
        "unused": {},
        "ungranted": ["s3:GetObject"],
    },
    "bob": {
        "roles": ["reader", "auditor"],
        "events": 5,
        "used": {
            "iam:CreateUser": (1, 0, []),
            "logs:GetLogEvents": (1, 0, ["auditor"]),
            "s3:GetObject": (1, 1, ["reader"]),
            "s3:ListBucket": (1, 0, ["reader"]),
        },
        "denied": {"s3:PutObject": (1, [])},
        "unused": {},
        "ungranted": ["iam:CreateUser"],
    },
    "carol": {
        "roles": [],
        "events": 3,
        "used": {"ec2:RunInstances": (1, 0, [])},
        "denied": {"acme.sso:login": (1, []), "logs:DeleteLogGroup": (1, [])},
        "unused": {},
        "ungranted": ["ec2:RunInstances"],
    },
    "dave": {
        "roles": ["iam-admin"],
        "events": 0,
        "used": {},
        "denied": {},
        "unused": {"iam:*": ["iam-admin"]},
        "ungranted": [],
    },
}


@pytest.fixture(scope="module")
def review() -> AccessReview:
    return review_sources([str(STREAM)], "30d", NOW, POLICY)


def test_each_principal_matches_the_hand_computation(review: AccessReview) -> None:
    assert summary(review) == EXPECTED


def test_window_input_counts_and_unassigned(review: AccessReview) -> None:
    assert (review.window.start, review.window.end) == (datetime(2026, 3, 1, tzinfo=UTC), NOW)
    # 17 lines: one rejected, 16 events, two of them (h-06, h-14) outside the window
    assert (review.input.records, review.input.rejected, review.input.events, review.input.in_window) == (
        17,
        1,
        16,
        14,
    )
    assert review.input.rejected_examples[0].startswith(f"{STREAM}:15: ")
    assert review.unassigned == [ERIN, "carol"]
    assert [u.resource_types for u in next(p for p in review.principals if p.principal == ERIN).used] == [
        ["AWS::S3::Object"]
    ]
    dave = next(p for p in review.principals if p.principal == "dave")
    assert dave.in_policy and dave.last_seen is None
    alice = next(p for p in review.principals if p.principal == "alice")
    assert [(u.action, u.resource_types) for u in alice.used][:2] == [
        ("s3:GetObject", ["object"]),
        ("s3:GetObjectAcl", ["acl"]),
    ]


def test_roles_and_proposed_policy(review: AccessReview) -> None:
    roles = {r.role: (r.members, r.used, r.unused, r.proposed) for r in review.roles}
    assert roles == {
        "auditor": (["bob"], ["logs:*"], [], ["logs:GetLogEvents"]),
        "iam-admin": (["dave"], [], ["iam:*"], []),
        "reader": (["alice", "bob"], ["s3:Get*", "s3:ListBucket"], [], ["s3:Get*", "s3:ListBucket"]),
        "writer": (["alice"], ["s3:PutObject"], ["s3:DeleteObject"], ["s3:PutObject"]),
    }
    assert review.proposed_policy == {
        "roles": {
            "auditor": {"allow": ["logs:GetLogEvents"]},
            "reader": {"allow": ["s3:Get*", "s3:ListBucket"]},
            "writer": {"allow": ["s3:PutObject"]},
        },
        # dave used nothing: his membership goes, and iam-admin, left with nothing, with it
        "members": {"alice": ["reader", "writer"], "bob": ["reader", "auditor"]},
    }


def test_without_a_policy_each_principal_gets_exactly_what_it_used() -> None:
    review = review_sources([str(STREAM)], "30d", NOW)
    assert review.roles == [] and review.unassigned == [] and review.policy is None
    assert all(not p.unused and not p.ungranted and not p.roles for p in review.principals)
    assert [p.principal for p in review.principals] == ["alice", ERIN, "bob", "carol"]  # no dave
    assert review.proposed_policy["roles"]["bob"] == {
        "allow": ["iam:CreateUser", "logs:GetLogEvents", "s3:GetObject", "s3:ListBucket"]
    }
    assert review.proposed_policy["members"]["carol"] == ["carol"]


def test_a_shorter_window_drops_what_fell_out_of_it(review: AccessReview) -> None:
    # 5d back from 03-16T12:00 = [03-11T12:00, 03-16T12:00]: bob's h-09, h-10, h-16; carol's h-11,
    # h-12; erin's ct-13. alice did nothing then, so all four of her grants are unused.
    short = review_sources([str(STREAM)], "5d", datetime(2026, 3, 16, 12, tzinfo=UTC), POLICY)
    alice = next(p for p in short.principals if p.principal == "alice")
    assert alice.events == 0 and [u.permission for u in alice.unused] == [
        "s3:DeleteObject",
        "s3:Get*",
        "s3:ListBucket",
        "s3:PutObject",
    ]
    assert short.input.in_window == 6


def test_an_archive_directory_gives_the_same_review(tmp_path: Path, review: AccessReview) -> None:
    stats = ReadStats()
    events = list(read_events([str(STREAM)], stats))
    writer = ArchiveWriter.open(
        LocalStorage(tmp_path / "archive"),
        Signer.generate(),
        WriterSettings(origin="test", checkpoint_every=5, checkpoint_interval=60, segment_max_bytes=2048),
    )
    for event in events:
        writer.append_event(event)
    writer.commit()
    writer.close()
    from_archive = review_sources([str(tmp_path / "archive")], "30d", NOW, POLICY)
    assert summary(from_archive) == EXPECTED
    assert (from_archive.input.records, from_archive.input.rejected) == (16, 0)


def test_events_in_memory_give_the_same_review(review: AccessReview) -> None:
    events: list[AuditEvent] = list(read_events([str(STREAM)], ReadStats()))
    assert summary(review_events(events, "30d", NOW, load_policy(POLICY))) == EXPECTED


def test_the_review_stays_free_of_faust_and_kafka() -> None:
    """The package is pure functions: importing it (and its CLI) loads no stream runtime."""
    code = (
        "import sys, pipeline.access, pipeline.cli_access; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faust', 'aiokafka', 'mode')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
