"""The simulated stream in the adapters' input formats: Okta System Log and CloudTrail.

Sign-ins (``origin.system == acme.sso``) become Okta ``LogEvent`` records; API
calls become CloudTrail events. Labels cannot travel inside a source's own
format, so ``labels.jsonl`` maps event ids to labels. The Okta and CloudTrail
adapters turn these records back into canonical events (CloudTrail actors
become IAM user ARNs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.simulate import SimulatedStream

__all__ = ["to_cloudtrail", "to_okta", "write_formats"]

ACCOUNT = "123456789012"


def to_okta(data: dict[str, Any]) -> dict[str, Any]:
    actor = data["actor"]
    record: dict[str, Any] = {
        "uuid": data["event_id"],
        "published": data["time"],
        "eventType": "user.session.start",
        "actor": {
            "id": actor["id"],
            "alternateId": f"{actor['id']}@acme.example",
            "type": "User" if actor["type"] == "human" else "PublicClientApp",
        },
        "outcome": {"result": "SUCCESS" if data["outcome"] == "success" else "FAILURE"},
        "client": {
            "ipAddress": data["source"]["ip"],
            "userAgent": {"rawUserAgent": data["source"]["user_agent"]},
        },
        "severity": "INFO",
    }
    country = data.get("extra", {}).get("geo", {}).get("country")
    if country:
        record["client"]["geographicalContext"] = {"country": country}
    return record


def to_cloudtrail(data: dict[str, Any]) -> dict[str, Any]:
    service, _, name = data["action"].partition(".")
    actor = data["actor"]["id"]
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventID": data["event_id"],
        "eventTime": data["time"].replace("+00:00", "Z"),
        "eventName": name or service,
        "eventSource": f"{service}.amazonaws.com",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{actor}",
            "userName": actor,
            "accountId": ACCOUNT,
        },
        "sourceIPAddress": data["source"]["ip"],
        "userAgent": data["source"]["user_agent"],
        "awsRegion": "eu-west-1",
        "recipientAccountId": ACCOUNT,
    }
    if data["outcome"] == "failure":
        record["errorCode"] = "AccessDenied"
    if "resource" in data:
        record["resources"] = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{data['resource']['name']}"}]
    return record


def write_formats(stream: SimulatedStream, directory: Path) -> dict[str, Path]:
    """Write ``okta.jsonl``, ``cloudtrail.jsonl`` and ``labels.jsonl``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.jsonl" for name in ("okta", "cloudtrail", "labels")}
    with (
        paths["okta"].open("w", encoding="utf-8") as okta,
        paths["cloudtrail"].open("w", encoding="utf-8") as cloudtrail,
        paths["labels"].open("w", encoding="utf-8") as labels,
    ):
        for item in stream.events:
            data = item.data
            if data["origin"]["system"] == "acme.sso":
                okta.write(json.dumps(to_okta(data)) + "\n")
            else:
                cloudtrail.write(json.dumps(to_cloudtrail(data)) + "\n")
            if item.label is not None:
                labels.write(json.dumps({"event_id": data["event_id"], **item.label}) + "\n")
    return paths
