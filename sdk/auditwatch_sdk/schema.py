"""The canonical audit event: the one shape producers emit and every worker stage reads.

This module is the single definition of the schema. The worker re-exports it
from ``detectors.events``; producers get it with the small ``auditwatch-sdk``
distribution, which depends on pydantic only. Field names follow OCSF and the
Elastic Common Schema where they can.

A timestamp without a zone is ambiguous, so it is rejected unless the caller
passes the source's zone in the validation context::

    AuditEvent.model_validate(data, context={"default_timezone": "Europe/Berlin"})

Every event carries ``schema_version``. A reader accepts its own version,
upgrades the older versions it knows (``UPGRADES``), and rejects any other with
a message saying what to change. ``json_schema()`` is the published contract.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "UPGRADES",
    "Actor",
    "ActorType",
    "AuditEvent",
    "Category",
    "Origin",
    "Outcome",
    "Resource",
    "Severity",
    "Source",
    "field_value",
    "json_schema",
    "upgrade",
]

SCHEMA_VERSION = "1.0"
"""Version of the event shape. A minor version adds optional fields; a major one changes meaning."""

SCHEMA_ID = f"urn:auditwatch:schema:audit-event:{SCHEMA_VERSION}"

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

UPGRADES: dict[str, tuple[str, Upgrade]] = {}
"""Older version -> (the next version, a function turning an event of the older
version into one of the next). Reading applies them in a chain up to
``SCHEMA_VERSION``. Version 1.0 is the first: there is nothing to upgrade yet.
A new version adds its predecessor here, for example
``UPGRADES["1.0"] = ("1.1", _from_1_0)``."""

SUPPORTED_VERSIONS: tuple[str, ...] = (SCHEMA_VERSION, *UPGRADES)

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


class Severity(enum.IntEnum):
    """Ordered so that a minimum severity is a plain comparison."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        """Accept the names used in YAML (``high``) as well as numbers."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {value!r}; use one of {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class ActorType(enum.StrEnum):
    HUMAN = "human"
    SERVICE = "service"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class Category(enum.StrEnum):
    AUTHENTICATION = "authentication"
    ACCOUNT_CHANGE = "account_change"
    AUTHORIZATION = "authorization"
    API_ACTIVITY = "api_activity"
    ENTITY_MANAGEMENT = "entity_management"
    OTHER = "other"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Actor(_Strict):
    """Who acted. ``authenticated_as`` is the identity actually used (an assumed
    role, an impersonated user) when it differs from ``id``."""

    id: str = Field(min_length=1)
    name: str | None = None
    type: ActorType = ActorType.UNKNOWN
    roles: tuple[str, ...] = ()
    authenticated_as: str | None = None


class Resource(_Strict):
    type: str | None = None
    id: str | None = None
    name: str | None = None
    namespace: str | None = None


class Source(_Strict):
    """Where the request came from. ``ip`` is validated; a host name goes in ``domain``."""

    ip: IPvAnyAddress | None = None
    domain: str | None = None
    user_agent: str | None = None


class Origin(_Strict):
    """Which system reported the event (``aws.cloudtrail``, ``okta``, ``linux.sshd``...)
    and which service inside it. Sigma's ``product`` and ``service`` select on these."""

    system: str = Field(min_length=1)
    service: str | None = None


class AuditEvent(_Strict):
    """One audit event in canonical form."""

    schema_version: str = SCHEMA_VERSION
    event_id: str = Field(min_length=1, max_length=256)
    source_event_id: str | None = None
    time: datetime
    original_time: str | None = None
    ingested_time: datetime | None = None
    tenant_id: str = "default"
    actor: Actor
    action: str = Field(min_length=1)
    category: Category = Category.OTHER
    resource: Resource | None = None
    outcome: Outcome = Outcome.UNKNOWN
    reason: str | None = None
    source: Source = Source()
    origin: Origin
    request_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    session_id: str | None = None
    severity: Severity = Severity.INFO
    raw: Any = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            return upgrade(data)
        return data

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(_unsupported(value))
        return value

    @field_validator("time", "ingested_time", mode="before")
    @classmethod
    def _zone_required(cls, value: Any, info: ValidationInfo) -> Any:
        """Make a naive time aware with the configured source zone, or reject it."""
        if value is None:
            return value
        parsed = _parse_time(value)
        if parsed.tzinfo is None:
            zone_name = (info.context or {}).get("default_timezone")
            if not zone_name:
                raise ValueError(
                    "timestamp has no time zone; add an offset such as 'Z' or '+02:00', "
                    "or set the source's timezone in the config"
                )
            try:
                parsed = parsed.replace(tzinfo=ZoneInfo(zone_name))
            except ZoneInfoNotFoundError:
                raise ValueError(f"unknown time zone {zone_name!r} in config") from None
        return parsed.astimezone(UTC)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Severity:
        return Severity.parse(value)

    @field_validator("trace_id")
    @classmethod
    def _trace_id(cls, value: str | None) -> str | None:
        if value is not None and not _TRACE_ID.match(value):
            raise ValueError("trace_id must be 32 lowercase hex digits (W3C trace context)")
        return value

    @field_validator("span_id")
    @classmethod
    def _span_id(cls, value: str | None) -> str | None:
        if value is not None and not _SPAN_ID.match(value):
            raise ValueError("span_id must be 16 lowercase hex digits (W3C trace context)")
        return value

    @property
    def epoch(self) -> float:
        """Event time in seconds since the epoch: what windows are computed on."""
        return self.time.timestamp()


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an event of an older, known schema version to ``SCHEMA_VERSION``.

    An event of the current version is returned as it is. A version this reader
    does not know (newer, or malformed) is left unchanged, and validation rejects
    it with a message saying what to change.
    """
    version = data.get("schema_version", SCHEMA_VERSION)
    seen: set[str] = set()
    while isinstance(version, str) and version in UPGRADES and version not in seen:
        seen.add(version)
        version, step = UPGRADES[version]
        data = {**step(data), "schema_version": version}
    return data


def _unsupported(version: object) -> str:
    known = ", ".join(SUPPORTED_VERSIONS)
    return (
        f"version {version!r} is not supported by this reader (it reads {known}); "
        f"emit version {SCHEMA_VERSION}, or upgrade the reader to one that knows {version!r}"
    )


def json_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of the event, for producers' CI.

    ``$id`` and ``x-schema-version`` name the version; ``schema_version`` in an
    event must be that version.
    """
    schema = AuditEvent.model_json_schema()
    schema["properties"]["schema_version"] = {
        "const": SCHEMA_VERSION,
        "default": SCHEMA_VERSION,
        "title": "Schema Version",
        "description": "Version of this schema; readers reject or upgrade other versions explicitly.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "x-schema-version": SCHEMA_VERSION,
        **schema,
    }


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 / RFC 3339 timestamp: {value!r}") from None
    raise ValueError(f"a timestamp must be a string or a number, not {type(value).__name__}")


_MISSING = object()


def field_value(event: AuditEvent, path: str) -> Any:
    """Resolve a dotted field path (``actor.id``, ``source.ip``, ``extra.foo``) on an event.

    Canonical fields come first; a path that names no canonical field is looked up
    in ``extra`` and then in the original record (``raw``), so a rule can test a
    source's own fields. Returns None when the path does not exist.
    """
    value: Any = event
    for part in path.split("."):
        value = _step(value, part)
        if value is _MISSING:
            break
    else:
        return _plain(value)
    for root in (event.extra, event.raw):
        found = _walk(root, path)
        if found is not _MISSING:
            return _plain(found)
    return None


def _walk(root: Any, path: str) -> Any:
    value = root
    for part in path.split("."):
        value = _step(value, part)
        if value is _MISSING:
            return _MISSING
    return value


def _step(value: Any, part: str) -> Any:
    if isinstance(value, BaseModel):
        if part in type(value).model_fields:
            return getattr(value, part)
        return _MISSING
    if isinstance(value, dict):
        return value.get(part, _MISSING)
    return _MISSING


def _plain(value: Any) -> Any:
    """Enums and addresses compare as the strings a rule author writes."""
    if isinstance(value, enum.Enum):
        return value.label if isinstance(value, Severity) else value.value
    if value is None or isinstance(value, str | int | float | bool | list | tuple | dict):
        return value
    return str(value)
