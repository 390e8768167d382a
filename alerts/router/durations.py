"""Prometheus durations (``30s``, ``5m``, ``1h30m``, ``10ms``), as Alertmanager writes them.

>>> parse_duration("1h30m")
5400.0
>>> format_duration(14400.0)
'4h'
>>> format_duration(0.01)
'10ms'
"""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_UNITS: tuple[tuple[str, float], ...] = (
    ("y", 365 * 24 * 3600.0),
    ("w", 7 * 24 * 3600.0),
    ("d", 24 * 3600.0),
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
    ("ms", 0.001),
)
_DURATION = re.compile(
    r"^(?:(?P<y>\d+)y)?(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?"
    r"(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?(?:(?P<ms>\d+)ms)?$"
)
_GROUPS = {"y": "y", "w": "w", "d": "d", "h": "h", "m": "m", "s": "s", "ms": "ms"}


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Prometheus duration; a bare number means seconds.

    Raises ``ValueError`` with the accepted form when ``text`` is not a duration.
    """
    if isinstance(text, bool):
        raise ValueError("a duration is text such as 30s, 5m or 4h, not a boolean")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    value = text.strip()
    if value == "0":
        return 0.0
    match = _DURATION.match(value)
    if not value or match is None or not any(match.groupdict().values()):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, such as 30s, 5m, 4h or 1h30m "
            "(units: ms, s, m, h, d, w, y)"
        )
    return sum(
        int(amount) * factor
        for (unit, factor) in _UNITS
        if (amount := match.group(_GROUPS[unit])) is not None
    )


def format_duration(seconds: float) -> str:
    """The shortest Prometheus form of ``seconds`` (``0s`` for zero)."""
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    parts: list[str] = []
    for unit, factor in _UNITS:
        size = round(factor * 1000)
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
