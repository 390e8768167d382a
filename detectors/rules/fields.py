"""Field lookup for rules: one event, many rules, each path resolved once.

A dotted name is a path (``actor.id``, ``userIdentity.type``), looked up in
this order, as ``detectors.events.field_value`` does:

1. the canonical event (``actor.id``, ``source.ip``, ``origin.system``);
2. ``extra``, then the original record (``raw``), key by key;
3. the same two, ignoring the case of keys and accepting keys that contain
   dots themselves (``eventtype`` finds Okta's ``eventType``; ``user.name``
   finds an ECS record's literal ``"user.name"`` key).

Step 3 lets unmodified SigmaHQ rules, whose field names follow each vendor's
documentation loosely, match the records the adapters keep in ``raw``.

4. for a few sources whose records are text, the names SigmaHQ rules give to
   the parts of that text (``USER``, ``COMMAND`` of a sudo line), as a pySigma
   processing pipeline would map them.

Two virtual fields describe the event time in UTC: ``time.hour`` (0-23) and
``time.weekday`` (0 is Monday).

``EventView`` caches every lookup for the one event it wraps, so a thousand
rules testing ``eventName`` resolve it once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel

from detectors.events import AuditEvent, Severity

__all__ = ["MISSING", "EventView", "as_text", "resolve"]


class _Missing:
    """The field does not exist (unlike a field that exists and is null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# How much of a record keyword search reads: enough for any audit record.
_MAX_TEXT_PARTS = 512

# SigmaHQ field names for the parts of text records, per origin.system.
_TEXT_FIELDS: dict[str, dict[str, str]] = {
    "linux.auth": {
        "USER": "extra.run_as",
        "COMMAND": "resource.name",
        "TTY": "extra.tty",
        "PWD": "extra.pwd",
    },
}


def resolve(event: AuditEvent, path: str) -> Any:
    """The value at ``path`` as a plain JSON-like value, or ``MISSING``."""
    parts = path.split(".")
    found = _canonical(event, parts)
    if found is not MISSING:
        return found
    for root in (event.extra, event.raw):
        found = _walk_exact(root, parts)
        if found is not MISSING:
            return _plain(found)
    for root in (event.extra, event.raw):
        found = _walk_loose(root, parts)
        if found is not MISSING:
            return _plain(found)
    alias = _TEXT_FIELDS.get(event.origin.system, {}).get(path)
    if alias is not None:
        return resolve(event, alias)
    return MISSING


_MODEL_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def _fields_of(model: type[BaseModel]) -> frozenset[str]:
    found = _MODEL_FIELDS.get(model)
    if found is None:
        found = _MODEL_FIELDS[model] = frozenset(model.model_fields)
    return found


def _canonical(event: AuditEvent, parts: list[str]) -> Any:
    value: Any = event
    for index, part in enumerate(parts):
        if isinstance(value, BaseModel):
            if part not in _fields_of(type(value)):
                return MISSING
            value = getattr(value, part)
        elif isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, datetime) and index == len(parts) - 1:
            if part == "hour":
                return value.hour
            if part == "weekday":
                return value.weekday()
            return MISSING
        else:
            return MISSING
    return _plain(value)


def _walk_exact(root: Any, parts: list[str]) -> Any:
    value = root
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _walk_loose(value: Any, parts: list[str]) -> Any:
    """Case-insensitive keys; a key may itself contain dots (``"user.name"``)."""
    if not parts:
        return value
    if not isinstance(value, dict):
        return MISSING
    for take in range(len(parts), 0, -1):
        wanted = ".".join(parts[:take]).casefold()
        for key, child in value.items():
            if isinstance(key, str) and key.casefold() == wanted:
                found = _walk_loose(child, parts[take:])
                if found is not MISSING:
                    return found
    return MISSING


def _plain(value: Any) -> Any:
    """Enums, addresses and times as the strings a rule author writes."""
    if isinstance(value, enum.Enum):
        return value.label if isinstance(value, Severity) else value.value
    if value is None or isinstance(value, str | bool | int | float | dict | list):
        return value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def as_text(value: Any) -> str | None:
    """A scalar as the text a string value is compared with; None for containers and null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


class EventView:
    """An event plus a cache of every field a rule has asked for."""

    __slots__ = ("_cache", "_text", "event", "time")

    def __init__(self, event: AuditEvent) -> None:
        self.event = event
        self.time = event.epoch
        self._cache: dict[str, Any] = {}
        self._text: list[str] | None = None

    def get(self, path: str) -> Any:
        """The value at ``path`` or ``MISSING``."""
        try:
            return self._cache[path]
        except KeyError:
            value = self._cache[path] = resolve(self.event, path)
            return value

    def value(self, path: str) -> Any:
        """Like ``get`` but with null for a missing field."""
        found = self.get(path)
        return None if found is MISSING else found

    def text(self) -> list[str]:
        """What keyword (field-less) values search: the message and every text of the record."""
        if self._text is None:
            parts: list[str] = []
            message = self.event.extra.get("message")
            if isinstance(message, str):
                parts.append(message)
            _collect_text(self.event.raw, parts)
            self._text = parts
        return self._text


def _collect_text(value: Any, out: list[str]) -> None:
    if len(out) >= _MAX_TEXT_PARTS:
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for child in value.values():
            _collect_text(child, out)
    elif isinstance(value, list):
        for child in value:
            _collect_text(child, out)
