"""Compile a Sigma ``detection`` block into a predicate over events.

Everything is compiled once at load time (wildcards into regexes, the
condition into a tree of closures), so matching an event does no parsing.

Semantics, as in the Sigma specification:
- a map is an AND of its fields; a list of maps is an OR of them;
- a list of values under one field is an OR (``|all`` makes it an AND);
- strings compare case-insensitively, ``*`` and ``?`` are wildcards and
  ``\\*`` a literal star; numbers and booleans compare by value;
- ``null`` matches a missing or null field;
- a dotted field name is a nested path (``actor.id``, ``source.ip``), looked
  up in the canonical event and then in the original record.

Supported modifiers: ``contains``, ``startswith``, ``endswith``, ``all``.
Anything else is refused when the rule loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from detectors.events import AuditEvent, field_value

__all__ = ["Predicate", "SelectionError", "compile_detection"]

Predicate = Callable[[AuditEvent], bool]
_SUPPORTED_MODIFIERS = {"contains", "startswith", "endswith", "all"}


class SelectionError(ValueError):
    """A detection block that cannot be compiled; ``path`` locates it in the rule."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


def compile_detection(detection: dict[str, Any]) -> Predicate:
    """The predicate for a whole detection block (its named selections plus condition)."""
    selections: dict[str, Predicate] = {}
    for name, body in detection.items():
        if name == "condition":
            continue
        if name == "timeframe":
            raise SelectionError(
                "'timeframe' is Sigma's legacy aggregation; write a correlation rule instead",
                ("detection", name),
            )
        selections[name] = _compile_selection(body, ("detection", name))
    condition = detection["condition"]
    if isinstance(condition, list):
        if len(condition) != 1:
            raise SelectionError("give one condition expression", ("detection", "condition"))
        condition = condition[0]
    if not isinstance(condition, str):
        raise SelectionError("the condition must be a string expression", ("detection", "condition"))
    if "|" in condition:
        raise SelectionError(
            "pipe aggregations in conditions (e.g. '| count() > 5') are Sigma's legacy form; "
            "write a correlation rule (type: event_count) instead",
            ("detection", "condition"),
        )
    try:
        return _ConditionParser(condition, selections).parse()
    except ValueError as exc:
        raise SelectionError(str(exc), ("detection", "condition")) from None


def _compile_selection(body: Any, path: tuple[str | int, ...]) -> Predicate:
    if isinstance(body, dict):
        if not body:
            raise SelectionError("a selection needs at least one field", path)
        parts = [_compile_field(key, value, (*path, key)) for key, value in body.items()]
        return lambda event: all(part(event) for part in parts)
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        alternatives = [_compile_selection(item, (*path, i)) for i, item in enumerate(body)]
        return lambda event: any(alt(event) for alt in alternatives)
    raise SelectionError(
        "a selection must be a map of field: value (or a list of such maps); "
        "keyword lists without field names are not supported",
        path,
    )


def _compile_field(key: str, value: Any, path: tuple[str | int, ...]) -> Predicate:
    field, *modifiers = key.split("|")
    unknown = [m for m in modifiers if m not in _SUPPORTED_MODIFIERS]
    if unknown:
        raise SelectionError(
            f"modifier(s) {', '.join(unknown)} not supported; supported: "
            f"{', '.join(sorted(_SUPPORTED_MODIFIERS))}",
            path,
        )
    match_all = "all" in modifiers
    kind = next((m for m in modifiers if m != "all"), None)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SelectionError("an empty list of values matches nothing; remove the field", path)
    tests = [_compile_value(v, kind, path) for v in values]

    def test(event: AuditEvent) -> bool:
        actual = field_value(event, field)
        candidates = actual if isinstance(actual, list | tuple) else [actual]
        if match_all:
            return all(any(t(c) for c in candidates) for t in tests)
        return any(t(c) for t in tests for c in candidates)

    return test


def _compile_value(value: Any, kind: str | None, path: tuple[str | int, ...]) -> Callable[[Any], bool]:
    if value is None:
        if kind:
            raise SelectionError(f"'{kind}' needs a value, not null", path)
        return lambda actual: actual is None
    if isinstance(value, bool):
        return lambda actual: (
            actual is value or (isinstance(actual, str) and actual.lower() == str(value).lower())
        )
    if isinstance(value, int | float) and kind is None:
        return lambda actual: _number_equals(actual, value)
    if not isinstance(value, str | int | float):
        raise SelectionError(f"cannot compare with a {type(value).__name__}; use a string or number", path)
    pattern = _wildcard_regex(str(value), kind)
    return lambda actual: (
        actual is not None and not isinstance(actual, dict) and pattern.match(_text(actual)) is not None
    )


def _number_equals(actual: Any, expected: float) -> bool:
    if isinstance(actual, bool) or actual is None:
        return False
    if isinstance(actual, int | float):
        return actual == expected
    try:
        return float(str(actual)) == expected
    except ValueError:
        return False


def _text(actual: Any) -> str:
    if isinstance(actual, bool):
        return "true" if actual else "false"
    return str(actual)


def _wildcard_regex(value: str, kind: str | None) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    body = "".join(out)
    if kind in ("contains", "endswith"):
        body = ".*" + body
    if kind in ("contains", "startswith"):
        body = body + ".*"
    return re.compile(rf"(?is){body}\Z")


class _ConditionParser:
    """Recursive descent over: or_expr := and_expr ('or' and_expr)*;
    and_expr := not_expr ('and' not_expr)*; not_expr := 'not' not_expr | atom;
    atom := '(' or_expr ')' | ('1'|'all') 'of' (name|pattern|'them') | name."""

    _TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*.\-]+)")

    def __init__(self, text: str, selections: dict[str, Predicate]) -> None:
        self._selections = selections
        self._tokens = self._tokenize(text)
        self._pos = 0

    def _tokenize(self, text: str) -> list[str]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = self._TOKEN.match(text, pos)
            if not match:
                raise ValueError(f"unexpected character {text[pos:].strip()[0]!r} in condition")
            tokens.append(match.group(1))
            pos = match.end()
        if not tokens:
            raise ValueError("the condition is empty")
        return tokens

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._pos != len(self._tokens):
            raise ValueError(f"unexpected {self._tokens[self._pos]!r} in condition")
        return predicate

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("the condition ends too early")
        self._pos += 1
        return token

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def _not(self) -> Predicate:
        if self._peek() == "not":
            self._take()
            inner = self._not()
            return lambda e: not inner(e)
        return self._atom()

    def _atom(self) -> Predicate:
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise ValueError("missing ')' in condition")
            return inner
        if token in ("1", "all") and self._peek() == "of":
            self._take()
            chosen = self._named_group(self._take())
            if token == "1":
                return lambda e: any(p(e) for p in chosen)
            return lambda e: all(p(e) for p in chosen)
        if token in self._selections:
            return self._selections[token]
        raise ValueError(
            f"condition names {token!r}, which is not a selection in this detection "
            f"(selections: {', '.join(sorted(self._selections)) or 'none'})"
        )

    def _named_group(self, pattern: str) -> list[Predicate]:
        if pattern == "them":
            names = [n for n in self._selections if not n.startswith("_")]
        else:
            regex = re.compile(_wildcard_regex(pattern, None).pattern.replace("(?is)", ""))
            names = [n for n in self._selections if regex.match(n)]
        if not names:
            raise ValueError(f"'of {pattern}' matches no selection")
        return [self._selections[n] for n in names]
