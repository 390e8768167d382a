"""Helpers every source adapter shares: typed field access, times, addresses, ids.

Source records are written by other people's software, so every accessor here
tolerates the wrong type, a null or a missing key. What cannot be mapped is
either a ``RecordRejected`` with the source's own field name (when the event
would be meaningless without it: the time, the action) or a note in
``extra["oddities"]`` (when the event is still sound without it). The record
itself stays verbatim in ``raw``, so nothing the source said is lost.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from detectors.events import AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats.base import FormatContext
from pipeline.formats.native import describe_validation_error

__all__ = [
    "RecentKeys",
    "RecordView",
    "build_event",
    "choose_event_id",
    "classify_address",
    "config_zone",
    "epoch_time",
    "iso_time",
    "stable_id",
    "verbatim",
]

_MAX_EVENT_ID = 256
_PATHS: dict[str, tuple[str, ...]] = {}
"""Split field paths: the adapters look up the same few hundred paths in every record."""
_MAX_PATHS = 4096
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
"""A dotted-quad IPv4 address without leading zeros: valid, no need to parse it twice."""
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")
_LEADING_ZERO_OCTET = re.compile(r"(?:^|\.)0[0-9]")
_DATE_PREFIX = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


class RecordView:
    """Never-raising, typed access to a JSON object by dotted path.

    A value of an unexpected type is treated as absent and noted in
    ``oddities``, which adapters copy to ``extra["oddities"]``.
    """

    __slots__ = ("data", "oddities")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.oddities: list[str] = []

    def get(self, path: str) -> Any:
        """The value at ``path``, or None when any step is missing or not an object."""
        parts = _PATHS.get(path)
        if parts is None:
            parts = tuple(path.split("."))
            if len(_PATHS) < _MAX_PATHS:
                _PATHS[path] = parts
        value: Any = self.data
        for part in parts:
            if type(value) is not dict:
                return None
            value = value.get(part)
        return value

    def text(self, path: str) -> str | None:
        """A non-empty string (numbers are converted: ids are often numeric)."""
        value = self.get(path)
        if type(value) is str:
            return value.strip() or None
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.oddities.append(f"{path}: expected a string, got {_type_name(value)}; not mapped")
        return None

    def required_text(self, path: str) -> str:
        """Like ``text``, but a record without it is rejected, naming the field."""
        value = self.get(path)
        found = self.text(path)
        if found is not None:
            return found
        if value is None:
            raise RecordRejected(f"{path}: {_absent(self.data, path)}", path)
        raise RecordRejected(f"{path}: expected a non-empty string, got {_type_name(value)}", path)

    def obj(self, path: str) -> dict[str, Any]:
        """A JSON object, or an empty one (noted when the value had another type)."""
        value = self.get(path)
        if isinstance(value, dict):
            return value
        if value is not None:
            self.oddities.append(f"{path}: expected an object, got {_type_name(value)}; ignored")
        return {}

    def seq(self, path: str) -> list[Any]:
        """A JSON array, or an empty one (noted when the value had another type)."""
        value = self.get(path)
        if isinstance(value, list):
            return value
        if value is not None:
            self.oddities.append(f"{path}: expected an array, got {_type_name(value)}; ignored")
        return []

    def texts(self, path: str) -> tuple[str, ...]:
        """The non-empty strings of an array; other items are noted and skipped."""
        items = self.seq(path)
        out = tuple(item.strip() for item in items if isinstance(item, str) and item.strip())
        if len(out) != len(items):
            self.oddities.append(f"{path}: {len(items) - len(out)} item(s) not strings; skipped")
        return out


def _absent(data: Mapping[str, Any], path: str) -> str:
    parent: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if isinstance(parent, dict) and parts[-1] in parent:
        return "is null, but the event needs it"
    return "required field is missing"


def _invalid_date(text: str) -> str | None:
    """Why a timestamp's date part names no calendar day, or None if it does."""
    match = _DATE_PREFIX.match(text)
    if match is None:
        return None
    year, month, day = (int(group) for group in match.groups())
    try:
        date(year, month, day)
    except ValueError as exc:
        return str(exc)
    return None


def config_zone(ctx: FormatContext, field: str) -> ZoneInfo:
    """The configured source zone (UTC when none is set), or a rejection naming it."""
    try:
        return ZoneInfo(ctx.default_timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise RecordRejected(
            f"{field}: unknown time zone {ctx.default_timezone!r} in config", field
        ) from None


def iso_time(value: Any, field: str, ctx: FormatContext, extra: dict[str, Any]) -> datetime:
    """An aware UTC time from an ISO 8601 / RFC 3339 string.

    A date that does not exist (Okta's documentation has ``2017-09-31``) is not
    guessed at: the event gets the ingest time and ``extra["time_invalid"]`` says
    why. A missing, null or unparseable time is a rejection. A time without a
    zone takes ``ctx.default_timezone``, and is rejected when none is configured.
    """
    if value is None:
        raise RecordRejected(f"{field}: required field is missing or null", field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_time(value, field, 1.0)
    if not isinstance(value, str):
        raise RecordRejected(f"{field}: a timestamp must be a string, not {_type_name(value)}", field)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        why = _invalid_date(text)
        if why is None:
            raise RecordRejected(f"{field}: not an ISO 8601 timestamp: {text[:64]!r}", field) from None
        extra["time_invalid"] = (
            f"{field} {text[:64]!r} names a day that does not exist ({why}); time is the ingest time"
        )
        return ctx.now().astimezone(UTC)
    if parsed.tzinfo is None:
        if ctx.default_timezone is None:
            raise RecordRejected(
                f"{field}: timestamp {text[:64]!r} has no time zone; set the source's "
                "default_timezone in the config",
                field,
            )
        parsed = parsed.replace(tzinfo=config_zone(ctx, field))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise RecordRejected(f"{field}: timestamp {text[:64]!r} is out of range", field) from None


def verbatim(value: Any) -> str | None:
    """A source's time field as text for ``original_time``, exactly as it was written."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, int | float | bool) else str(value)[:256]


def epoch_time(value: Any, field: str, seconds_per_unit: float) -> datetime:
    """An aware UTC time from a number of epoch units (1.0 for seconds, 0.001 for ms)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordRejected(f"{field}: an epoch time must be a number, not {_type_name(value)}", field)
    try:
        return datetime.fromtimestamp(value * seconds_per_unit, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise RecordRejected(f"{field}: epoch time {value!r} is out of range", field) from None


def classify_address(value: Any, field: str, extra: dict[str, Any]) -> tuple[str | None, str | None]:
    """Split a source field into ``(ip, domain)``; the ip is text known to be a valid address.

    Host names go to ``source.domain``. Anything else (``AWS Internal``, an IPv4
    address with leading zeros, which some parsers read as octal and others as
    decimal) is not guessed at: it is kept in ``extra["source_address"]`` with a
    note in ``extra["source_address_note"]``.
    """
    if value is None:
        return None, None
    if not isinstance(value, str):
        extra["source_address"] = value if isinstance(value, int | float) else str(value)[:256]
        extra["source_address_note"] = f"{field} is {_type_name(value)}, not an address"
        return None, None
    text = value.strip()
    if not text:
        return None, None
    if _IPV4.fullmatch(text):
        return text, None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return text, None
    if _DOTTED_NUMBERS.match(text):
        extra["source_address"] = text
        if _LEADING_ZERO_OCTET.search(text):
            note = "has leading zeros (octal or decimal is ambiguous); not interpreted"
        else:
            note = "looks like an IPv4 address but is not a valid one"
        extra["source_address_note"] = f"{field} {note}"
        return None, None
    if _HOSTNAME.match(text):
        return None, text.rstrip(".").lower()
    extra["source_address"] = text[:256]
    extra["source_address_note"] = f"{field} is neither an IP address nor a host name"
    return None, None


def canonical_text(raw: Any) -> str:
    """The text a record's stable id is computed from: sorted-key compact JSON, or the line."""
    if isinstance(raw, str):
        return raw
    try:
        return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (RecursionError, ValueError, TypeError) as exc:
        raise RecordRejected(f"record cannot be serialised to compute its id: {exc}") from None


def stable_id(system: str, raw: Any, suffix: str = "") -> str:
    """SHA-256 of the origin system and the record: the same record always gets the same id."""
    digest = hashlib.sha256()
    digest.update(system.encode())
    digest.update(b"\n")
    digest.update(canonical_text(raw).encode("utf-8", errors="surrogatepass"))
    if suffix:
        digest.update(b"\n" + suffix.encode())
    return digest.hexdigest()


def choose_event_id(source_id: str | None, system: str, raw: Any) -> str:
    """The source's own id when it has a usable one (at most 256 characters), else ``stable_id``."""
    if source_id is not None and len(source_id) <= _MAX_EVENT_ID:
        return source_id
    return stable_id(system, raw)


def build_event(data: dict[str, Any], oddities: list[str] | None = None) -> AuditEvent:
    """Validate the mapped fields as an ``AuditEvent``, or reject with the failing fields.

    ``oddities`` (a ``RecordView``'s, collected while mapping) are appended to
    ``extra["oddities"]``; passing them here, last, keeps notes made at any point.
    """
    if oddities:
        extra = data.setdefault("extra", {})
        earlier = extra.get("oddities")
        extra["oddities"] = [*(earlier if isinstance(earlier, list) else []), *oddities]
    try:
        return AuditEvent.model_validate(data)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        raise RecordRejected(reason, field) from None


class RecentKeys:
    """A bounded set of recently seen keys, for deduplication with constant memory.

    ``seen(key)`` is True when the key was among the last ``size`` distinct keys,
    and remembers it; the oldest key is forgotten first.
    """

    __slots__ = ("_keys", "_size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the dedup window must hold at least one key")
        self._size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def seen(self, key: Hashable) -> bool:
        if key in self._keys:
            self._keys.move_to_end(key)
            return True
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return False

    def add(self, key: Hashable) -> None:
        self.seen(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)
