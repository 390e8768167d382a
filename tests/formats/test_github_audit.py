"""GitHub audit log: times, actors, outcomes and ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext
from pipeline.formats.github_audit import GitHubAuditAdapter


@pytest.fixture
def entry(sample: Callable[[str], Any]) -> dict[str, Any]:
    record: dict[str, Any] = sample("github_audit_log_org_stream.elastic-integrations.jsonl")[1]
    return record


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        (1583364382722, "2020-03-04T23:26:22.722000+00:00"),
        ("1583364382722", "2020-03-04T23:26:22.722000+00:00"),
        ("2020-03-04T23:26:22Z", "2020-03-04T23:26:22+00:00"),
        (1583364382, "2020-03-04T23:26:22+00:00"),
    ],
)
def test_times(entry: dict[str, Any], ctx: FormatContext, value: Any, iso: str) -> None:
    (event,) = GitHubAuditAdapter().adapt(dict(entry, created_at=value), ctx)
    assert event.time.isoformat() == iso
    if value == 1583364382:
        assert "read as seconds" in event.extra["time_unit_note"]


def test_an_out_of_range_time_is_rejected(entry: dict[str, Any], ctx: FormatContext) -> None:
    with pytest.raises(RecordRejected, match=r"created_at: epoch time .* is out of range"):
        GitHubAuditAdapter().adapt(dict(entry, created_at=10**20), ctx)


def test_actors(entry: dict[str, Any], ctx: FormatContext) -> None:
    (bot,) = GitHubAuditAdapter().adapt(dict(entry, actor="dependabot[bot]"), ctx)
    assert bot.actor.type.value == "service"
    nobody = dict(entry)
    del nobody["actor"]
    (event,) = GitHubAuditAdapter().adapt(nobody, ctx)
    assert (event.actor.id, event.actor.type.value) == ("github", "system")
    assert any(note.startswith("actor:") for note in event.extra["oddities"])


@pytest.mark.parametrize(
    ("action", "category", "outcome"),
    [
        ("user.failed_login", "authentication", "failure"),
        ("user.login", "authentication", "success"),
        ("protected_branch.policy_override", "authorization", "success"),
        ("org.remove_member", "account_change", "success"),
        ("repo.add_member", "account_change", "success"),
        ("git.clone", "api_activity", "success"),
        ("repo.create", "entity_management", "success"),
    ],
)
def test_categories(
    entry: dict[str, Any], ctx: FormatContext, action: str, category: str, outcome: str
) -> None:
    (event,) = GitHubAuditAdapter().adapt(dict(entry, action=action), ctx)
    assert (event.category.value, event.outcome.value) == (category, outcome)
    assert event.origin.service == action.split(".")[0]


def test_source_fields(entry: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(entry, actor_ip="198.51.100.4", user_agent="git/2.40", request_id="r-1")
    (event,) = GitHubAuditAdapter().adapt(record, ctx)
    assert (str(event.source.ip), event.source.user_agent, event.request_id) == (
        "198.51.100.4",
        "git/2.40",
        "r-1",
    )


def test_ids_without_document_id_differ_per_record(
    entry: dict[str, Any], ctx: FormatContext
) -> None:
    (first,) = GitHubAuditAdapter().adapt(entry, ctx)
    (other,) = GitHubAuditAdapter().adapt(dict(entry, user="someone-else"), ctx)
    assert first.event_id != other.event_id
    assert first.source_event_id is None
