"""AWS CloudTrail: single events, the ``{"Records": [...]}`` file form, and digest files.

A CloudTrail log file in S3 is one JSON object whose ``Records`` array holds
the events; forwarders (EventBridge, Firehose, CloudWatch Logs) send one event
per message. Both shapes arrive on the raw topic, so both are accepted: a
``Records`` object yields one canonical event per entry. If one entry cannot be
accepted, the whole object is rejected with that entry's index, so the dead
letter keeps every entry (``pipeline.formats.files`` splits files per entry, so
one bad entry costs only itself there). Digest files (log file validation) are
turned into a ``CloudTrailDigest`` event, so a rule can notice a broken digest
chain.

=============================  ==============================================
CloudTrail                     canonical
=============================  ==============================================
eventID                        event_id, source_event_id
eventTime                      time, original_time (verbatim)
eventName                      action (``ConsoleLogin``, ``CreateUser``, ...)
eventSource                    origin.service (origin.system: aws.cloudtrail)
userIdentity.arn               actor.id (IAM user without arn: derived from
                               accountId and userName, noted in extra)
userIdentity.userName /        actor.name
session name of an arn
userIdentity.type              actor.type (table below); kept as
                               extra.actor_source_type
sessionIssuer.arn              actor.authenticated_as (assumed roles)
sessionIssuer.userName         actor.roles (assumed roles); Root: ``root``
errorCode, errorMessage        outcome failure, reason; extra.error_code
responseElements.ConsoleLogin  outcome of a console sign-in (a failed one
                               has no errorCode)
sourceIPAddress                source.ip, or source.domain for a service name
                               (``ec2.amazonaws.com``), or extra.source_address
                               (``AWS Internal``)
userAgent                      source.user_agent
requestID                      request_id
sharedEventID                  correlation_id
userIdentity.accessKeyId       session_id, for temporary (``ASIA``) keys only
resources[0]                   resource (type, ARN as id, accountId as
                               namespace)
recipientAccountId, awsRegion  extra.aws_account_id, extra.aws_region
readOnly, eventType            extra.read_only, extra.event_type
=============================  ==============================================

Actor types: ``IAMUser``, ``Root``, ``FederatedUser``, ``IdentityCenterUser``,
``SAMLUser`` and ``WebIdentityUser`` are human; ``AWSService`` is a service;
``AssumedRole`` is a service, or human when the role is an IAM Identity Center
(``AWSReservedSSO_*``) role; anything else is unknown.

Categories, first match wins: a sign-in or credential call (``ConsoleLogin``,
``AssumeRole*``, ``GetSessionToken``...) is ``authentication``, except that an
access-denied error on any call is ``authorization``; a write to IAM or
Identity Center is ``account_change``; any other write is
``entity_management``; a read (``readOnly``, or a ``Get``/``List``/``Describe``
... name) is ``api_activity``.
"""

from __future__ import annotations

from typing import Any

from detectors.events import ActorType, AuditEvent, Category, Outcome
from pipeline.errors import RecordRejected
from pipeline.formats._common import (
    RecordView,
    build_event,
    choose_event_id,
    classify_address,
    iso_time,
    verbatim,
)
from pipeline.formats.base import DecodedRecord, FormatContext

__all__ = ["SYSTEM", "CloudTrailAdapter"]

SYSTEM = "aws.cloudtrail"

_ACTOR_TYPES = {
    "IAMUser": ActorType.HUMAN,
    "Root": ActorType.HUMAN,
    "FederatedUser": ActorType.HUMAN,
    "IdentityCenterUser": ActorType.HUMAN,
    "SAMLUser": ActorType.HUMAN,
    "WebIdentityUser": ActorType.HUMAN,
    "AWSService": ActorType.SERVICE,
    "AssumedRole": ActorType.SERVICE,
}
_SIGN_IN = frozenset(
    {
        "ConsoleLogin",
        "CheckMfa",
        "SwitchRole",
        "ExitRole",
        "RenewRole",
        "GetSessionToken",
        "GetFederationToken",
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "Federate",
        "CredentialVerification",
        "CredentialChallenge",
        "UserAuthentication",
    }
)
_IDENTITY_SOURCES = frozenset(
    {"iam.amazonaws.com", "identitystore.amazonaws.com", "sso-directory.amazonaws.com"}
)
_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Scan",
    "Query",
    "BatchGet",
    "Check",
    "Test",
    "Validate",
    "Verify",
    "Decrypt",
    "Estimate",
    "Preview",
    "View",
)
_HIDDEN_USER = "HIDDEN_DUE_TO_SECURITY_REASONS"


class CloudTrailAdapter:
    """CloudTrail events (single or ``Records``) and digest files."""

    name = "cloudtrail"

    def detect(self, record: DecodedRecord) -> bool:
        if not isinstance(record, dict):
            return False
        if isinstance(record.get("Records"), list):
            return True
        if "eventVersion" in record and ("eventSource" in record or "eventName" in record):
            return True
        return "digestStartTime" in record and "awsAccountId" in record

    def adapt(self, record: DecodedRecord, ctx: FormatContext) -> list[AuditEvent]:
        if not isinstance(record, dict):
            raise RecordRejected("a CloudTrail record must be a JSON object")
        entries = record.get("Records")
        if isinstance(entries, list):
            events = []
            for index, entry in enumerate(entries):
                try:
                    events.append(_event(entry, ctx, index))
                except RecordRejected as exc:
                    field = f"Records[{index}].{exc.field}" if exc.field else f"Records[{index}]"
                    raise RecordRejected(f"Records[{index}]: {exc.reason}", field) from None
            return events
        if "digestStartTime" in record and "eventName" not in record:
            return [_digest_event(record, ctx)]
        return [_event(record, ctx, None)]


def _event(entry: Any, ctx: FormatContext, index: int | None) -> AuditEvent:
    if not isinstance(entry, dict):
        raise RecordRejected("a CloudTrail event must be a JSON object")
    view = RecordView(entry)
    extra: dict[str, Any] = {}
    time = iso_time(view.get("eventTime"), "eventTime", ctx, extra)
    action = view.required_text("eventName")
    service = view.text("eventSource")
    actor = _actor(view, extra)
    error_code = view.text("errorCode")
    error_message = view.text("errorMessage")
    outcome = _outcome(view, error_code, error_message)
    ip, domain = classify_address(view.get("sourceIPAddress"), "sourceIPAddress", extra)
    read_only = view.get("readOnly")
    source_id = view.text("eventID")
    access_key = view.text("userIdentity.accessKeyId")
    account = view.text("recipientAccountId") or view.text("userIdentity.accountId")
    for key, value in (
        ("aws_account_id", account),
        ("aws_region", view.text("awsRegion")),
        ("error_code", error_code),
        ("event_type", view.text("eventType")),
        ("read_only", read_only if isinstance(read_only, bool) else None),
        ("mfa_used", view.text("additionalEventData.MFAUsed")),
        ("batch_index", index),
    ):
        if value is not None:
            extra[key] = value
    if source_id is None:
        view.oddities.append("eventID: missing; event_id derived from the record")
    reason = f"{error_code}: {error_message}" if error_code and error_message else None
    data = {
        "event_id": choose_event_id(source_id, SYSTEM, entry),
        "source_event_id": source_id,
        "time": time,
        "original_time": verbatim(entry.get("eventTime")),
        "ingested_time": ctx.now(),
        "actor": actor,
        "action": action,
        "category": _category(action, service, error_code, read_only),
        "resource": _resource(view, account),
        "outcome": outcome,
        "reason": reason or error_message or error_code,
        "source": {"ip": ip, "domain": domain, "user_agent": view.text("userAgent")},
        "origin": {"system": SYSTEM, "service": service},
        "request_id": view.text("requestID"),
        "correlation_id": view.text("sharedEventID"),
        "session_id": access_key if access_key and access_key.startswith("ASIA") else None,
        "raw": entry,
        "extra": extra,
    }
    return build_event(data, view.oddities)


def _actor(view: RecordView, extra: dict[str, Any]) -> dict[str, Any]:
    identity = view.obj("userIdentity")
    kind = view.text("userIdentity.type")
    arn = view.text("userIdentity.arn")
    user_name = view.text("userIdentity.userName")
    account = view.text("userIdentity.accountId")
    principal = view.text("userIdentity.principalId")
    invoked_by = view.text("userIdentity.invokedBy")
    actor_type = _ACTOR_TYPES.get(kind or "", ActorType.UNKNOWN)
    roles: tuple[str, ...] = ()
    authenticated_as = None
    name = user_name
    actor_id = arn
    if kind is not None:
        extra["actor_source_type"] = kind
    if kind == "Root":
        roles = ("root",)
        actor_id = arn or (f"arn:aws:iam::{account}:root" if account else None)
    elif kind == "AssumedRole":
        issuer_arn = view.text("userIdentity.sessionContext.sessionIssuer.arn")
        role = view.text("userIdentity.sessionContext.sessionIssuer.userName")
        authenticated_as = issuer_arn
        roles = (role,) if role else ()
        if role and role.startswith("AWSReservedSSO_"):
            actor_type = ActorType.HUMAN
        name = arn.rsplit("/", 1)[-1] if arn and "/" in arn else name
    elif kind == "IAMUser" and arn is None and account and user_name and user_name != _HIDDEN_USER:
        actor_id = f"arn:aws:iam::{account}:user/{user_name}"
        extra["actor_id_derived"] = "no userIdentity.arn; built from accountId and userName"
    elif kind == "AWSService":
        actor_id = invoked_by
    actor_id = actor_id or user_name or principal or invoked_by or account
    if actor_id is None:
        if not identity:
            raise RecordRejected("userIdentity: required field is missing", "userIdentity")
        raise RecordRejected(
            "userIdentity: no arn, userName, principalId, invokedBy or accountId to name the actor",
            "userIdentity",
        )
    return {
        "id": actor_id,
        "name": name,
        "type": actor_type,
        "roles": roles,
        "authenticated_as": authenticated_as,
    }


def _outcome(view: RecordView, error_code: str | None, error_message: str | None) -> Outcome:
    sign_in = view.text("responseElements.ConsoleLogin")
    if sign_in is not None:
        return Outcome.SUCCESS if sign_in.lower() == "success" else Outcome.FAILURE
    if error_code or error_message:
        return Outcome.FAILURE
    return Outcome.SUCCESS


def _category(action: str, service: str | None, error_code: str | None, read_only: Any) -> Category:
    if error_code and ("AccessDenied" in error_code or "Unauthorized" in error_code):
        return Category.AUTHORIZATION
    if action in _SIGN_IN:
        return Category.AUTHENTICATION
    reads = read_only if isinstance(read_only, bool) else action.startswith(_READ_PREFIXES)
    if reads:
        return Category.API_ACTIVITY
    if service in _IDENTITY_SOURCES:
        return Category.ACCOUNT_CHANGE
    return Category.ENTITY_MANAGEMENT


def _resource(view: RecordView, account: str | None) -> dict[str, Any] | None:
    resources = view.seq("resources")
    first = resources[0] if resources else None
    if not isinstance(first, dict):
        return None
    arn = first.get("ARN")
    kind = first.get("type")
    return {
        "type": kind if isinstance(kind, str) else None,
        "id": arn if isinstance(arn, str) else None,
        "namespace": first.get("accountId") if isinstance(first.get("accountId"), str) else account,
    }


def _digest_event(record: dict[str, Any], ctx: FormatContext) -> AuditEvent:
    """A log-file validation digest: which log files were delivered in an hour."""
    view = RecordView(record)
    extra: dict[str, Any] = {}
    time = iso_time(view.get("digestEndTime"), "digestEndTime", ctx, extra)
    account = view.required_text("awsAccountId")
    digest_object = view.text("digestS3Object")
    log_files = view.seq("logFiles")
    extra["aws_account_id"] = account
    extra["log_file_count"] = len(log_files)
    for key, field in (
        ("digest_start_time", "digestStartTime"),
        ("newest_event_time", "newestEventTime"),
        ("oldest_event_time", "oldestEventTime"),
        ("previous_digest_s3_object", "previousDigestS3Object"),
        ("previous_digest_hash", "previousDigestHashValue"),
    ):
        value = view.text(field)
        if value is not None:
            extra[key] = value
    data = {
        "event_id": choose_event_id(digest_object, SYSTEM, record),
        "source_event_id": digest_object,
        "time": time,
        "original_time": verbatim(record.get("digestEndTime")),
        "ingested_time": ctx.now(),
        "actor": {"id": "cloudtrail.amazonaws.com", "type": ActorType.SYSTEM},
        "action": "CloudTrailDigest",
        "category": Category.OTHER,
        "resource": {
            "type": "cloudtrail.digest",
            "id": digest_object,
            "name": view.text("digestS3Bucket"),
            "namespace": account,
        },
        "outcome": Outcome.SUCCESS,
        "origin": {"system": SYSTEM, "service": "cloudtrail.amazonaws.com"},
        "raw": record,
        "extra": extra,
    }
    return build_event(data, view.oddities)
