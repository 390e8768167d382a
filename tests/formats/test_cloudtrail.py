"""CloudTrail: the Records form, actor types, odd source addresses, categories."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import RecordRejected
from pipeline.formats import FormatContext, default_registry
from pipeline.formats.cloudtrail import CloudTrailAdapter
from pipeline.ingest import Accepted, Rejection, accept_record


@pytest.fixture
def login(sample: Callable[[str], Any]) -> dict[str, Any]:
    record: dict[str, Any] = sample("cloudtrail_consolelogin_failure.json")
    return record


def _assumed_role(role: str = "deployer") -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:deploy-bot",
            "arn": f"arn:aws:sts::123456789012:assumed-role/{role}/deploy-bot",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLEKEY",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::123456789012:role/{role}",
                    "userName": role,
                }
            },
        },
        "eventTime": "2024-03-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "DeleteBucket",
        "sourceIPAddress": "AWS Internal",
        "eventID": "3f1a8f2e-0000-4000-8000-000000000001",
        "readOnly": False,
    }


def test_records_form_yields_one_event_per_entry(login: dict[str, Any], ctx: FormatContext) -> None:
    second = dict(login, eventID="another-id")
    events = CloudTrailAdapter().adapt({"Records": [login, second]}, ctx)
    assert [event.event_id for event in events] == [login["eventID"], "another-id"]
    assert [event.extra["batch_index"] for event in events] == [0, 1]
    assert events[1].raw is second


def test_empty_records_form_yields_nothing(ctx: FormatContext) -> None:
    assert CloudTrailAdapter().adapt({"Records": []}, ctx) == []


def test_a_broken_entry_rejects_the_whole_object_naming_it(
    login: dict[str, Any], ctx: FormatContext
) -> None:
    broken = dict(login)
    del broken["eventTime"]
    with pytest.raises(RecordRejected) as caught:
        CloudTrailAdapter().adapt({"Records": [login, broken]}, ctx)
    assert caught.value.reason.startswith("Records[1]: eventTime")
    assert caught.value.field == "Records[1].eventTime"


def test_assumed_role_is_the_authenticated_identity(ctx: FormatContext) -> None:
    (event,) = CloudTrailAdapter().adapt(_assumed_role(), ctx)
    assert event.actor.id == "arn:aws:sts::123456789012:assumed-role/deployer/deploy-bot"
    assert event.actor.name == "deploy-bot"
    assert event.actor.authenticated_as == "arn:aws:iam::123456789012:role/deployer"
    assert event.actor.roles == ("deployer",)
    assert event.actor.type.value == "service"
    assert event.session_id == "ASIAEXAMPLEKEY"
    assert event.category.value == "entity_management"
    assert event.extra["actor_source_type"] == "AssumedRole"


def test_identity_center_roles_are_people(ctx: FormatContext) -> None:
    (event,) = CloudTrailAdapter().adapt(_assumed_role("AWSReservedSSO_Admin_0123"), ctx)
    assert event.actor.type.value == "human"


def test_aws_internal_is_kept_in_extra_not_guessed(ctx: FormatContext) -> None:
    (event,) = CloudTrailAdapter().adapt(_assumed_role(), ctx)
    assert event.source.ip is None and event.source.domain is None
    assert event.extra["source_address"] == "AWS Internal"
    assert "neither an IP address nor a host name" in event.extra["source_address_note"]


@pytest.mark.parametrize(
    ("value", "ip", "domain"),
    [
        ("ec2.amazonaws.com", None, "ec2.amazonaws.com"),
        ("2001:db8::1", "2001:db8::1", None),
        ("010.001.002.003", None, None),
        ("999.1.1.1", None, None),
    ],
)
def test_source_address_shapes(
    login: dict[str, Any], ctx: FormatContext, value: str, ip: str | None, domain: str | None
) -> None:
    (event,) = CloudTrailAdapter().adapt(dict(login, sourceIPAddress=value), ctx)
    assert (str(event.source.ip) if event.source.ip else None, event.source.domain) == (ip, domain)
    if ip is None and domain is None:
        assert event.extra["source_address"] == value


def test_root_and_service_actors(login: dict[str, Any], ctx: FormatContext) -> None:
    root = dict(login, userIdentity={"type": "Root", "accountId": "111122223333"})
    root["responseElements"] = {"ConsoleLogin": "Success"}
    (event,) = CloudTrailAdapter().adapt(root, ctx)
    assert event.actor.id == "arn:aws:iam::111122223333:root"
    assert event.actor.roles == ("root",)
    assert (event.outcome.value, event.category.value) == ("success", "authentication")
    service = dict(login, userIdentity={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"})
    (event,) = CloudTrailAdapter().adapt(service, ctx)
    assert (event.actor.id, event.actor.type.value) == ("lambda.amazonaws.com", "service")


@pytest.mark.parametrize(
    ("changes", "category", "outcome"),
    [
        (
            {"eventName": "CreateUser", "eventSource": "iam.amazonaws.com"},
            "account_change",
            "success",
        ),
        (
            {"eventName": "DescribeInstances", "eventSource": "ec2.amazonaws.com"},
            "api_activity",
            "success",
        ),
        (
            {"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"},
            "entity_management",
            "success",
        ),
        ({"eventName": "RunInstances", "readOnly": True}, "api_activity", "success"),
        ({"eventName": "GetObject", "errorCode": "AccessDenied"}, "authorization", "failure"),
        ({"eventName": "AssumeRole", "errorCode": "AccessDenied"}, "authorization", "failure"),
        (
            {"eventName": "AssumeRole", "eventSource": "sts.amazonaws.com"},
            "authentication",
            "success",
        ),
    ],
)
def test_categories(
    login: dict[str, Any], ctx: FormatContext, changes: dict[str, Any], category: str, outcome: str
) -> None:
    record = dict(login, responseElements=None, errorMessage=None, **changes)
    (event,) = CloudTrailAdapter().adapt(record, ctx)
    assert (event.category.value, event.outcome.value) == (category, outcome)


def test_missing_event_id_gets_a_stable_derived_id(
    login: dict[str, Any], ctx: FormatContext
) -> None:
    record = dict(login)
    del record["eventID"]
    (first,) = CloudTrailAdapter().adapt(record, ctx)
    (again,) = CloudTrailAdapter().adapt(copy.deepcopy(record), ctx)
    assert first.event_id == again.event_id
    assert len(first.event_id) == 64 and first.source_event_id is None
    assert any("eventID" in note for note in first.extra["oddities"])


def test_missing_identity_is_rejected(login: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(login)
    del record["userIdentity"]
    with pytest.raises(RecordRejected, match="userIdentity: required field is missing"):
        CloudTrailAdapter().adapt(record, ctx)


def test_huge_request_parameters(login: dict[str, Any], ctx: FormatContext) -> None:
    big = dict(login, requestParameters={"policy": "x" * 500_000})
    result = accept_record(json.dumps(big).encode(), default_registry(), ctx)
    assert isinstance(result, Accepted)
    assert result.events[0].raw["requestParameters"]["policy"] == "x" * 500_000
    too_big = dict(login, requestParameters={"policy": "x" * 2_000_000})
    rejected = accept_record(json.dumps(too_big).encode(), default_registry(), ctx)
    assert isinstance(rejected, Rejection) and "byte limit" in rejected.reason


def test_wrong_types_are_noted_not_fatal(login: dict[str, Any], ctx: FormatContext) -> None:
    record = dict(login, userAgent={"not": "a string"}, awsRegion=7, resources="none")
    (event,) = CloudTrailAdapter().adapt(record, ctx)
    assert event.source.user_agent is None
    assert event.extra["aws_region"] == "7"
    assert any(note.startswith("userAgent:") for note in event.extra["oddities"])
    assert any(note.startswith("resources:") for note in event.extra["oddities"])


def test_digest_without_account_is_rejected(
    sample: Callable[[str], Any], ctx: FormatContext
) -> None:
    digest = sample("cloudtrail_digest_example.json")
    digest["awsAccountId"] = None
    with pytest.raises(RecordRejected, match="awsAccountId"):
        CloudTrailAdapter().adapt(digest, ctx)
