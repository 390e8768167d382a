"""The review window: a duration (``90d``, ``12h``, ``30m``) back from a fixed "now".

"Now" is a parameter, not the clock, so a review of a stored stream gives the
same answer tomorrow and tests are deterministic.

>>> parse_duration("90d"), parse_duration("12h"), parse_duration("30m")
(datetime.timedelta(days=90), datetime.timedelta(seconds=43200), datetime.timedelta(seconds=1800))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.errors import ConfigError

__all__ = ["DurationError", "Window", "parse_duration", "parse_now"]

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


class DurationError(ConfigError, ValueError):
    """A bad ``since``: a ``ConfigError`` to the CLI, a ``ValueError`` (HTTP 400) to the API."""


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h`` or ``30m``; ``DurationError`` saying what to write otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise DurationError(f"duration {text!r}: write a whole number and d, h or m, e.g. 90d, 12h or 30m")
    amount = int(match.group(1))
    if amount == 0:
        raise DurationError(f"duration {text!r}: must be longer than zero")
    return amount * _UNITS[match.group(2)]


def parse_now(text: str | None) -> datetime:
    """An ISO 8601 instant with a zone (``2026-03-09T00:00:00Z``), or the clock when None."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--now {text!r}: not an ISO 8601 time; write e.g. 2026-03-09T00:00:00Z") from None
    if value.tzinfo is None:
        raise ConfigError(f"--now {text!r}: add a zone, e.g. {text}Z or {text}+00:00")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """Events with ``start <= time <= end`` are reviewed; ``since`` is the duration as written."""

    since: str
    start: datetime
    end: datetime

    @classmethod
    def back_from(cls, since: str, now: datetime | None = None) -> Window:
        end = (now or datetime.now(UTC)).astimezone(UTC)
        return cls(since, end - parse_duration(since), end)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end
