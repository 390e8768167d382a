"""Sigma values, as pySigma parsed them, compiled into tests of one field value.

pySigma has already applied the modifiers: ``contains`` became wildcards,
``base64offset`` an expansion of three strings, ``re`` a regular expression
with its flags, ``cidr`` a network. This module turns each resulting value
into a function of one scalar taken from the event, following the Sigma
specification:

- strings compare case-insensitively (``cased`` makes them case-sensitive);
  ``*`` and ``?`` are wildcards; a number or boolean in the event is compared
  as its text (``403`` matches ``'403'``);
- numbers compare by value, also with numeric text in the event;
- booleans match booleans and the text ``true``/``false``;
- ``re`` searches anywhere in the text unless anchored, with RE2 (linear time,
  so no rule can stall the stream), honouring the ``i``, ``m`` and ``s`` flags;
- ``cidr`` matches IPv4 and IPv6 addresses inside the network;
- ``gt``, ``gte``, ``lt``, ``lte`` compare numbers; ``minute`` ... ``year``
  compare a part of a timestamp.

Tests that need the whole event (``exists``, ``fieldref``, null) are built in
``selection``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExpansion,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from detectors.rules.fields import as_text

__all__ = [
    "Matcher",
    "ValueError_",
    "as_time",
    "compile_regex",
    "compile_value",
    "describe_value",
    "plain_string",
]

Matcher = Callable[[Any], bool]


class ValueError_(ValueError):
    """A value the evaluator cannot test."""


def compile_value(value: SigmaType, *, keyword: bool = False) -> Matcher:
    """A test of one scalar from the event; ``keyword`` makes plain strings match anywhere."""
    if isinstance(value, SigmaExpansion):
        parts = [compile_value(v, keyword=keyword) for v in value.values]
        return lambda actual: any(part(actual) for part in parts)
    if isinstance(value, SigmaString):
        return _string(value, cased=isinstance(value, SigmaCasedString), keyword=keyword)
    if isinstance(value, SigmaBool):
        return _boolean(bool(value.boolean))
    if isinstance(value, SigmaTimestampPart):
        return _timestamp_part(value.timestamp_part, int(value.number))
    if isinstance(value, SigmaNumber):
        return _number(value.number)
    if isinstance(value, SigmaRegularExpression):
        return _regex(value)
    if isinstance(value, SigmaCIDRExpression):
        return _cidr(value.network)
    if isinstance(value, SigmaCompareExpression):
        return _compare(value.op, value.number.number)
    raise ValueError_(f"values of type {type(value).__name__} are not supported")


def plain_string(value: SigmaType) -> str | None:
    """The literal text of a string value without wildcards, or None."""
    if type(value) is not SigmaString:
        return None
    if any(not isinstance(part, str) for part in value.s):
        return None
    return "".join(part for part in value.s if isinstance(part, str))


def describe_value(value: SigmaType) -> str:
    """A value as a rule author wrote it, for explanations."""
    if isinstance(value, SigmaExpansion):
        return " | ".join(describe_value(v) for v in value.values)
    if isinstance(value, SigmaString):
        return repr(_display(value))
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(sorted(value.sigma_to_re_flag[f] for f in value.flags))
        return f"/{value.regexp.original if hasattr(value.regexp, 'original') else value.regexp}/{flags}"
    if isinstance(value, SigmaCIDRExpression):
        return f"in {value.cidr}"
    if isinstance(value, SigmaCompareExpression):
        return f"{_OPERATOR_TEXT[value.op]} {value.number.number}"
    if isinstance(value, SigmaTimestampPart):
        return f"{value.timestamp_part.name.lower()} = {value.number}"
    if isinstance(value, SigmaNumber):
        return str(value.number)
    if isinstance(value, SigmaBool):
        return "true" if value.boolean else "false"
    return type(value).__name__


def _display(value: SigmaString) -> str:
    out = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append("*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("?")
        elif isinstance(part, Placeholder):
            out.append(f"%{part.name}%")
        else:
            out.append(str(part).replace("*", "\\*").replace("?", "\\?"))
    return "".join(out)


def _string(value: SigmaString, *, cased: bool, keyword: bool) -> Matcher:
    parts = list(value.s)
    if any(isinstance(p, Placeholder) for p in parts):
        raise ValueError_(f"placeholder in {_display(value)!r} is not bound to any value")
    if keyword:
        if not parts or parts[0] is not SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] is not SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    fold: Callable[[str], str] = (lambda s: s) if cased else str.casefold
    inner = parts[1:-1] if len(parts) >= 2 else []
    starts = bool(parts) and parts[0] is SpecialChars.WILDCARD_MULTI
    ends = len(parts) > 1 and parts[-1] is SpecialChars.WILDCARD_MULTI
    literal_inner = all(isinstance(p, str) for p in inner)
    if all(isinstance(p, str) for p in parts):
        wanted = fold("".join(str(p) for p in parts))
        return _with_text(lambda text: fold(text) == wanted)
    if starts and ends and literal_inner and inner:
        needle = fold("".join(str(p) for p in inner))
        return _with_text(lambda text: needle in fold(text))
    if ends and not starts and all(isinstance(p, str) for p in parts[:-1]):
        prefix = fold("".join(str(p) for p in parts[:-1]))
        return _with_text(lambda text: fold(text).startswith(prefix))
    if starts and not ends and all(isinstance(p, str) for p in parts[1:]):
        suffix = fold("".join(str(p) for p in parts[1:]))
        return _with_text(lambda text: fold(text).endswith(suffix))
    pattern = _wildcard_pattern(tuple(str(p) if isinstance(p, str) else p for p in parts), cased)
    return _with_text(lambda text: pattern.fullmatch(text) is not None)


@lru_cache(maxsize=4096)
def _wildcard_pattern(parts: tuple[str | SpecialChars, ...], cased: bool) -> re.Pattern[str]:
    body = "".join(
        ".*"
        if p is SpecialChars.WILDCARD_MULTI
        else "."
        if p is SpecialChars.WILDCARD_SINGLE
        else re.escape(p)
        for p in parts
    )
    return re.compile(body, re.DOTALL if cased else re.DOTALL | re.IGNORECASE)


def _with_text(test: Callable[[str], bool]) -> Matcher:
    def match(actual: Any) -> bool:
        text = as_text(actual)
        return text is not None and test(text)

    return match


def _boolean(expected: bool) -> Matcher:
    word = "true" if expected else "false"

    def match(actual: Any) -> bool:
        if isinstance(actual, bool):
            return actual is expected
        return isinstance(actual, str) and actual.strip().casefold() == word

    return match


def _as_number(actual: Any) -> float | None:
    if isinstance(actual, bool) or actual is None:
        return None
    if isinstance(actual, int | float):
        return actual
    if isinstance(actual, str):
        try:
            return float(actual.strip())
        except ValueError:
            return None
    return None


def _number(expected: float) -> Matcher:
    def match(actual: Any) -> bool:
        number = _as_number(actual)
        return number is not None and number == expected

    return match


_OPERATOR_TEXT = {
    CompareOperators.LT: "<",
    CompareOperators.LTE: "<=",
    CompareOperators.GT: ">",
    CompareOperators.GTE: ">=",
    CompareOperators.NEQ: "!=",
}


def _compare(op: CompareOperators, limit: float) -> Matcher:
    tests: dict[CompareOperators, Callable[[float], bool]] = {
        CompareOperators.LT: lambda n: n < limit,
        CompareOperators.LTE: lambda n: n <= limit,
        CompareOperators.GT: lambda n: n > limit,
        CompareOperators.GTE: lambda n: n >= limit,
        CompareOperators.NEQ: lambda n: n != limit,
    }
    test = tests[op]

    def match(actual: Any) -> bool:
        number = _as_number(actual)
        return number is not None and test(number)

    return match


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_regex(pattern: str, flags: set[SigmaRegularExpressionFlag]) -> Any:
    """An RE2 pattern; raises ``ValueError_`` with RE2's reason if it is invalid."""
    prefix = "".join(sorted(SigmaRegularExpression.sigma_to_re_flag[flag] for flag in flags))
    try:
        return re2.compile(f"(?{prefix}){pattern}" if prefix else pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise ValueError_(
            f"regular expression {pattern!r} is not valid for RE2 (which has no look-around "
            f"or back-references): {reason}"
        ) from None


def _regex(value: SigmaRegularExpression) -> Matcher:
    regexp = value.regexp
    if isinstance(regexp, SigmaString) and regexp.contains_placeholder():
        raise ValueError_(f"placeholder in regular expression {str(regexp)!r} is not bound to any value")
    compiled = compile_regex(str(regexp), value.flags)
    return _with_text(lambda text: compiled.search(text) is not None)


def _cidr(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Matcher:
    def match(actual: Any) -> bool:
        if not isinstance(actual, str):
            return False
        try:
            address = ipaddress.ip_address(actual.strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.version == network.version and address in network

    return match


def as_time(actual: Any) -> datetime | None:
    if isinstance(actual, datetime):
        moment = actual
    elif isinstance(actual, int | float) and not isinstance(actual, bool):
        moment = datetime.fromtimestamp(actual / 1000 if actual > 10**11 else actual, tz=UTC)
    elif isinstance(actual, str):
        text = actual.strip()
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp_part(part: TimestampPart, expected: int) -> Matcher:
    pick: dict[TimestampPart, Callable[[datetime], int]] = {
        TimestampPart.MINUTE: lambda t: t.minute,
        TimestampPart.HOUR: lambda t: t.hour,
        TimestampPart.DAY: lambda t: t.day,
        TimestampPart.WEEK: lambda t: t.isocalendar()[1],
        TimestampPart.MONTH: lambda t: t.month,
        TimestampPart.YEAR: lambda t: t.year,
    }
    get = pick[part]

    def match(actual: Any) -> bool:
        moment = as_time(actual)
        return moment is not None and get(moment) == expected

    return match
