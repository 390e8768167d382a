"""Redaction of secret-looking headers and fields before an event leaves the process."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "SENSITIVE_HEADERS", "is_sensitive", "redact"]

REDACTED = "[REDACTED]"

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)

_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key|session[-_]?key",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)  # the same few keys come back on every event
def is_sensitive(key: str) -> bool:
    """A header or field name that may carry a secret (password, token, cookie...)."""
    return key.lower() in SENSITIVE_HEADERS or _SENSITIVE_KEY.search(key) is not None


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with the values of sensitive keys replaced, in nested maps and lists."""
    if type(value) in _SCALARS or depth > 16:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and is_sensitive(k) else redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, depth + 1) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})
