"""Time intervals: when a route is muted (``mute_time_intervals``) or active
(``active_time_intervals``), in Alertmanager's syntax and with its semantics.

::

    time_intervals:
      - name: out-of-hours
        time_intervals:
          - weekdays: ['saturday', 'sunday']
          - times: [{start_time: '18:00', end_time: '24:00'}]
            location: Europe/Berlin

A time is in a named interval when it is in any of its entries. It is in an
entry when it passes every field the entry sets: ``times`` (minutes of the
day, end excluded), ``weekdays``, ``days_of_month`` (negative counts back from
the month's end: ``-1`` is its last day), ``months`` and ``years``, all read
in ``location`` (UTC by default). Ranges are inclusive: ``monday:friday``.

>>> entry = TimeIntervalSpec.model_validate({"weekdays": ["monday:friday"],
...     "times": [{"start_time": "09:00", "end_time": "17:00"}]})
>>> from datetime import datetime, UTC
>>> entry.contains(datetime(2024, 5, 1, 10, 30, tzinfo=UTC))   # a Wednesday
True
>>> entry.contains(datetime(2024, 5, 4, 10, 30, tzinfo=UTC))   # a Saturday
False
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = ["TimeIntervalConfig", "TimeIntervalSpec", "TimeRange", "in_any_interval"]

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")


def _clock_minutes(value: Any) -> int:
    if not isinstance(value, str) or (found := _CLOCK.match(value.strip())) is None:
        raise ValueError(f"{value!r} is not a time of day; write HH:MM, such as 09:00 or 24:00")
    hours, minutes = int(found.group(1)), int(found.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > 24 * 60:
        raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
    return total


class TimeRange(BaseModel):
    """``start_time`` to ``end_time`` (``HH:MM``), the end minute excluded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_time: Annotated[int, BeforeValidator(_clock_minutes)]
    end_time: Annotated[int, BeforeValidator(_clock_minutes)]

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start_time >= self.end_time:
            raise ValueError("start_time must be before end_time (an interval cannot wrap past midnight)")
        return self


def _range(value: Any, parse_one: Callable[[str], int]) -> tuple[int, int]:
    text = str(value).strip().lower()
    begin_text, _, end_text = text.partition(":")
    begin = parse_one(begin_text)
    end = parse_one(end_text) if end_text else begin
    return begin, end


def _weekday(text: str) -> int:
    if text not in WEEKDAYS:
        raise ValueError(f"{text!r} is not a weekday; write monday ... sunday, or a range monday:friday")
    return WEEKDAYS.index(text)


def _month(text: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    raise ValueError(f"{text!r} is not a month; write january ... december or 1 ... 12")


def _day(text: str) -> int:
    try:
        day = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the month; write 1 ... 31, or -1 for the last") from None
    if day == 0 or not -31 <= day <= 31:
        raise ValueError(f"{day} is not a day of the month; use 1 ... 31, or -31 ... -1 from the end")
    return day


def _year(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a year")
    return int(text)


def _weekday_range(value: Any) -> tuple[int, int]:
    begin, end = _range(value, _weekday)
    if begin > end:
        raise ValueError(f"{value!r}: a weekday range runs forward, sunday first (sunday:saturday)")
    return begin, end


def _month_range(value: Any) -> tuple[int, int]:
    begin, end = _range(value, _month)
    if begin > end:
        raise ValueError(f"{value!r}: a month range must run forward within a year")
    return begin, end


def _day_range(value: Any) -> tuple[int, int]:
    begin, end = _range(value, _day)
    if (begin > 0) == (end > 0) and begin > end:
        raise ValueError(f"{value!r}: the first day of a range must not be after the last")
    return begin, end


def _year_range(value: Any) -> tuple[int, int]:
    begin, end = _range(value, _year)
    if begin > end:
        raise ValueError(f"{value!r}: the first year of a range must not be after the last")
    return begin, end


def _location(value: Any) -> str:
    name = str(value)
    if name != "Local":
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin") from None
    return name


WeekdayRange = Annotated[tuple[int, int], BeforeValidator(_weekday_range)]
MonthRange = Annotated[tuple[int, int], BeforeValidator(_month_range)]
DayRange = Annotated[tuple[int, int], BeforeValidator(_day_range)]
YearRange = Annotated[tuple[int, int], BeforeValidator(_year_range)]


class TimeIntervalSpec(BaseModel):
    """One entry of a named interval; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    times: list[TimeRange] | None = None
    weekdays: list[WeekdayRange] | None = None
    days_of_month: list[DayRange] | None = None
    months: list[MonthRange] | None = None
    years: list[YearRange] | None = None
    location: Annotated[str, BeforeValidator(_location)] | None = None

    def zone(self) -> tzinfo:
        if self.location is None or self.location == "UTC":
            return UTC
        if self.location == "Local":
            local = datetime.now().astimezone().tzinfo
            return local if local is not None else UTC
        return ZoneInfo(self.location)

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware; naive is taken as UTC) passes every field set."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone())
        if self.times is not None:
            minute = local.hour * 60 + local.minute
            if not any(r.start_time <= minute < r.end_time for r in self.times):
                return False
        if self.days_of_month is not None and not _in_days(local, self.days_of_month):
            return False
        if self.months is not None and not any(b <= local.month <= e for b, e in self.months):
            return False
        if self.weekdays is not None:
            weekday = (local.weekday() + 1) % 7  # Python's Monday=0 to Sunday=0
            if not any(b <= weekday <= e for b, e in self.weekdays):
                return False
        return self.years is None or any(b <= local.year <= e for b, e in self.years)


def _in_days(local: datetime, ranges: Sequence[tuple[int, int]]) -> bool:
    days = calendar.monthrange(local.year, local.month)[1]
    for raw_begin, raw_end in ranges:
        begin = days + raw_begin + 1 if raw_begin < 0 else raw_begin
        end = days + raw_end + 1 if raw_end < 0 else raw_end
        if begin > days:
            continue
        begin, end = max(-days, min(begin, days)), max(-days, min(end, days))
        if begin <= local.day <= end:
            return True
    return False


class TimeIntervalConfig(BaseModel):
    """A named list of entries: ``{name: ..., time_intervals: [...]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    time_intervals: list[TimeIntervalSpec] = Field(default_factory=list)

    def contains(self, moment: datetime) -> bool:
        return any(entry.contains(moment) for entry in self.time_intervals)


def in_any_interval(
    names: Sequence[str], intervals: Mapping[str, TimeIntervalConfig], moment: datetime
) -> str | None:
    """The first of ``names`` whose interval contains ``moment``, or None."""
    for name in names:
        if intervals[name].contains(moment):
            return name
    return None
