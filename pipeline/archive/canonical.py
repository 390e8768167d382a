"""Canonical JSON: one byte sequence per value, so a record's hash can be recomputed anywhere.

Format version 1 (``CANONICAL_VERSION``), after RFC 8785 (JCS):

- UTF-8, no byte order mark, no insignificant whitespace;
- object keys sorted by their UTF-16 code units (code point order for every
  key outside the astral planes); keys must be strings;
- strings escape only ``"``, ``\\`` and control characters (``\\b \\f \\n \\r \\t``,
  else ``\\u00XX`` in lower case); a lone surrogate, which UTF-8 cannot hold, is
  written as its ``\\uXXXX`` escape so that nothing is lost;
- integers in full (no rounding to a double); floats in ECMAScript's shortest
  form (``1e-7``, ``0.000001``, ``1e+21``, ``-0`` as ``0``; an integral float
  below 1e21 as an integer); NaN and infinities are refused;
- times (``datetime``) as RFC 3339 in UTC: ``2026-01-01T09:14:03Z``, with six
  fraction digits only when there is a fraction (``...03.250000Z``); a naive
  time is refused;
- enums as their value, IP addresses as text, tuples as arrays.

Changing any of these rules changes the bytes, and so every leaf hash: it
needs a new version. ``tests/archive/data/golden_records_v1.txt`` pins them.

>>> canonical_json({"b": [1, 2.5, None], "a": "é\\n"}).decode()
'{"a":"é\\\\n","b":[1,2.5,null]}'
"""

from __future__ import annotations

import enum
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pipeline.archive.errors import CanonicalError

__all__ = ["CANONICAL_VERSION", "canonical_json", "canonical_time", "parse_time", "reference_json"]

CANONICAL_VERSION = 1

_SURROGATE = re.compile("[\ud800-\udfff]")
_dumps_str = json.JSONEncoder(ensure_ascii=False).encode


def canonical_json(value: Any, *, floats: bool = True) -> bytes:
    """The canonical UTF-8 bytes of a JSON-like value; raises ``CanonicalError``.

    Keys must be strings (JSON and model data have no others; the reference
    encoder refuses them, the C encoder would write ``1`` as ``"1"``). Most
    records are encoded by the C JSON encoder, whose output is exactly the
    canonical form when it holds no float, no lone surrogate and no character
    at or above U+E000 (where code point and UTF-16 key order could differ);
    anything else is encoded by ``reference_json``. ``floats=False`` promises
    that ``value`` holds no float (a JSON parser's ``parse_float`` hook knows),
    which saves looking for one.
    The tests compare both on generated values.
    """
    try:
        text = _fast_dumps(value)
    except (TypeError, ValueError):
        return reference_json(value)
    no_float = not floats or (type(value) is not float and _FLOAT.search(text) is None)
    if no_float and (text.isascii() or not _HIGH.search(text)):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            pass
    return reference_json(value)


def reference_json(value: Any) -> bytes:
    """The canonical form by the pure-Python reference encoder (what ``canonical_json`` must equal)."""
    parts: list[str] = []
    _encode(value, parts, "$")
    return "".join(parts).encode("utf-8")


def _plain(value: Any) -> Any:
    """The C encoder's fallback for the types the canonical form knows beyond JSON's."""
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    raise TypeError(type(value).__name__)


_fast_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain
).encode
# A float written by Python (always with a '.' or an exponent) where a value can stand; the same text
# inside a string only sends the value down the reference path, which is slower, never wrong.
_FLOAT = re.compile(r"[:,\[]-?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)[,\]}]")
_HIGH = re.compile("[\ue000-\U0010ffff]")


def canonical_time(value: datetime) -> str:
    """An aware time as RFC 3339 UTC with a ``Z``; microseconds only when non-zero."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalError(f"time {value.isoformat()} has no time zone")
    # isoformat writes four-digit years, and six fraction digits only when there is a fraction.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def parse_time(text: str) -> datetime:
    """Read a time written by ``canonical_time`` (or any RFC 3339 time with a zone)."""
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise CanonicalError(f"not an RFC 3339 time: {text!r}") from None
    if parsed.tzinfo is None:
        raise CanonicalError(f"time {text!r} has no time zone")
    return parsed.astimezone(UTC)


def _encode(value: Any, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, enum.Enum):
        _encode(value.value, out, path)
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_number(value, path))
    elif isinstance(value, Mapping):
        _object(value, out, path)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, f"{path}[{i}]")
        out.append("]")
    elif isinstance(value, datetime):
        out.append(_string(canonical_time(value)))
    elif isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        out.append(_string(str(value)))
    else:
        raise CanonicalError(f"{path}: a {type(value).__name__} has no canonical JSON form")


def _object(value: Mapping[Any, Any], out: list[str], path: str) -> None:
    for key in value:
        if not isinstance(key, str):
            raise CanonicalError(f"{path}: object key {key!r} is not a string")
    out.append("{")
    for i, key in enumerate(sorted(value, key=_utf16)):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _encode(value[key], out, f"{path}.{key}")
    out.append("}")


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _string(value: str) -> str:
    text: str = _dumps_str(value)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _number(value: float, path: str) -> str:
    """ECMAScript ``Number::toString`` (RFC 8785 3.2.2.3) from Python's shortest round-trip digits."""
    if math.isnan(value) or math.isinf(value):
        raise CanonicalError(f"{path}: {value} has no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mant = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mant}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text
