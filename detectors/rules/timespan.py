"""Sigma timespans: ``30s``, ``5m``, ``1h``, ``1d``, ``1w``, ``1M`` (month) and ``1y``.

Months and years have the lengths pySigma gives them (30.44 and 365.24 days).
"""

from __future__ import annotations

import re

__all__ = ["format_timespan", "parse_timespan"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2629746, "y": 31556952}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdwMy])\s*$")


def parse_timespan(text: str | int) -> int:
    """Seconds in a Sigma timespan; a bare integer is seconds."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError("a timespan must be positive")
        return text
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(
            f"timespan {text!r} is not a number followed by s, m, h, d, w, M or y (e.g. 60s, 5m, 30d)"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a timespan must be positive")
    return seconds


def format_timespan(seconds: int) -> str:
    """The shortest exact Sigma spelling of ``seconds``."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
