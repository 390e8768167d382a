"""The access review's JSON shape: pydantic models, so the API's OpenAPI schema documents it.

The shape is described field by field in ``pipeline.access`` (the package doc).
Lists are sorted (principals, actions, roles by name) so that two reviews of the
same input are byte-identical.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FORMAT",
    "AccessReview",
    "DeniedAttempt",
    "InputSummary",
    "PrincipalReview",
    "RoleReview",
    "UnusedGrant",
    "UsedAction",
    "WindowInfo",
]

FORMAT = "auditwatch.access-review/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowInfo(_Model):
    since: str = Field(description="The duration as given, e.g. 90d.")
    start: datetime
    end: datetime


class InputSummary(_Model):
    records: int = Field(description="Input records read (archive: event records).")
    rejected: int = Field(description="Records that could not be turned into events.")
    rejected_examples: list[str] = Field(description="The first few rejections, as file:line: reason.")
    events: int = Field(description="Events read, in the window or not.")
    in_window: int = Field(description="Events inside the window: the ones reviewed.")


class UsedAction(_Model):
    action: str = Field(description="service:Operation, e.g. s3:GetObject.")
    count: int = Field(description="Successful (or outcome-unknown) events.")
    unconfirmed: int = Field(description="Of count, events whose outcome was unknown.")
    resource_types: list[str]
    first_seen: datetime
    last_seen: datetime
    granted_by: list[str] = Field(
        description="The principal's roles that allow it; [] = used without a grant."
    )


class DeniedAttempt(_Model):
    action: str
    count: int = Field(description="Failed events (outcome failure).")
    last_seen: datetime
    granted_by: list[str] = Field(
        description="Roles that allow it: non-empty means it failed for a reason other than the policy."
    )


class UnusedGrant(_Model):
    permission: str = Field(description="The granted pattern, as written in the policy.")
    roles: list[str] = Field(description="The principal's roles that grant it.")


class PrincipalReview(_Model):
    principal: str
    actor_type: str = Field(description="human, service, system or unknown (unknown if never seen).")
    in_policy: bool = Field(description="Listed under members: in the policy.")
    roles: list[str]
    events: int = Field(description="Events in the window (used, denied and unconfirmed).")
    first_seen: datetime | None
    last_seen: datetime | None = Field(description="None: not seen in the window (a dormant member).")
    used: list[UsedAction]
    denied: list[DeniedAttempt]
    unused: list[UnusedGrant] = Field(
        description="Granted patterns matching nothing it used; [] without a policy."
    )
    ungranted: list[str] = Field(
        description="Actions used that none of its roles allows (policy given only)."
    )


class RoleReview(_Model):
    role: str
    members: list[str]
    allow: list[str] = Field(description="The granted patterns, as written.")
    used: list[str] = Field(description="Granted patterns that some member used.")
    unused: list[str] = Field(description="Granted patterns no member used.")
    proposed: list[str] = Field(description="The least-privilege allow list (see proposal_rule).")


class AccessReview(_Model):
    """One review. ``to_json()`` is what ``GET /api/v1/access/review`` returns."""

    format: Literal["auditwatch.access-review/1"] = "auditwatch.access-review/1"
    window: WindowInfo
    policy: str | None = Field(description="The policy file reviewed against, or None.")
    input: InputSummary
    principals: list[PrincipalReview]
    roles: list[RoleReview] = Field(description="[] without a policy.")
    unassigned: list[str] = Field(
        description="Principals seen in the window with no role (policy given only)."
    )
    proposed_policy: dict[str, Any] = Field(
        description="A policy file's content: {roles: {...}, members: {...}}."
    )
    proposal_rule: str

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (times as ISO 8601 strings)."""
        return self.model_dump(mode="json")
