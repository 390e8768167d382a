"""Label matchers, as Alertmanager writes them: ``name="value"``, ``!=``, ``=~`` and ``!~``.

A matcher compares one label of an alert. A label the alert does not have is
the empty string, so ``team=""`` matches alerts without a ``team`` label and
``team!=""`` those with one. Regular expressions are anchored at both ends
(``=~"prod"`` does not match ``production``; write ``=~"prod.*"``).

:func:`parse_matchers` reads the forms Alertmanager's configuration and
``amtool`` accept: ``{a="1", b=~"x|y"}``, ``a="1"``, and unquoted values
(``service=database``). A label name is a word of letters, digits, ``_``,
``:``, ``.``, ``-`` and ``/`` (so ``actor.id`` works unquoted), or any text
in double quotes.

>>> [str(m) for m in parse_matchers('{env=~"prod.*", team!="sre"}')]
['env=~"prod.*"', 'team!="sre"']
>>> parse_matcher('env=~"prod.*"').matches({"env": "production"})
True
>>> parse_matcher('team=""').matches({})
True
>>> labelset_string({"service": "api", "alertname": "Burst"})
'{alertname="Burst", service="api"}'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MatchType",
    "Matcher",
    "go_quote",
    "labelset_string",
    "matchers_match",
    "matchers_string",
    "parse_matcher",
    "parse_matchers",
    "sort_matchers",
]


class MatchType(enum.StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


# Alertmanager sorts matchers by name, value, then type in this order.
_TYPE_ORDER = {MatchType.EQUAL: 0, MatchType.NOT_EQUAL: 1, MatchType.REGEX: 2, MatchType.NOT_REGEX: 3}
_LEGACY_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_MATCHER = re.compile(
    r"""^\s*(?:"(?P<qname>(?:[^"\\]|\\.)*)"|(?P<name>[A-Za-z_:][A-Za-z0-9_:./-]*))
        \s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


@dataclass(frozen=True)
class Matcher:
    """One label comparison; build it with :func:`parse_matcher` or directly."""

    name: str
    type: MatchType
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.type in (MatchType.REGEX, MatchType.NOT_REGEX):
            try:
                re.compile(self.value)  # for an error whose position is in the user's text
                compiled = re.compile(f"^(?:{self.value})$")
            except re.error as exc:
                raise ValueError(f"{self.name}{self.type}: invalid regular expression: {exc}") from None
            object.__setattr__(self, "_regex", compiled)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` pass; a missing label is the empty string."""
        value = labels.get(self.name, "")
        match self.type:
            case MatchType.EQUAL:
                return value == self.value
            case MatchType.NOT_EQUAL:
                return value != self.value
            case MatchType.REGEX:
                assert self._regex is not None
                return self._regex.match(value) is not None
            case MatchType.NOT_REGEX:
                assert self._regex is not None
                return self._regex.match(value) is None

    def __str__(self) -> str:
        name = self.name if _LEGACY_NAME.match(self.name) else f'"{_escape(self.name)}"'
        return f'{name}{self.type.value}"{_escape(self.value)}"'

    def sort_key(self) -> tuple[str, str, int]:
        return (self.name, self.value, _TYPE_ORDER[self.type])


def parse_matcher(text: str) -> Matcher:
    """One matcher such as ``env=~"prod.*"``; raises ``ValueError`` saying what is wrong."""
    found = _MATCHER.match(text)
    if found is None:
        raise ValueError(
            f"{text.strip()!r} is not a matcher; write a label name, one of = != =~ !~, "
            'and a value, such as severity="critical" or service=~"api|web"'
        )
    qname = found.group("qname")
    name = _unquote_body(qname, text) if qname is not None else found.group("name")
    if not name:
        raise ValueError(f"{text.strip()!r}: the label name is empty")
    raw = found.group("value")
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"') or _ends_in_escape(raw[1:-1]):
            raise ValueError(f"{text.strip()!r}: the value's closing double quote is missing")
        value = _unquote_body(raw[1:-1], text)
    else:
        if any(char in raw for char in '"{}'):
            raise ValueError(f"{text.strip()!r}: quote a value that contains '\"', '{{' or '}}'")
        value = raw
    return Matcher(name, MatchType(found.group("op")), value)


def parse_matchers(text: str) -> list[Matcher]:
    """A list of matchers, in braces or not, separated by commas."""
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise ValueError(f"{text!r}: the closing '}}' is missing")
        body = body[1:-1]
    elif body.endswith("}"):
        raise ValueError(f"{text!r}: the opening '{{' is missing")
    parts = [part for part in _split_commas(body) if part.strip()]
    return [parse_matcher(part) for part in parts]


def matchers_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher passes (an empty list matches everything)."""
    return all(matcher.matches(labels) for matcher in matchers)


def sort_matchers(matchers: Iterable[Matcher]) -> tuple[Matcher, ...]:
    """Alertmanager's canonical order, used in route keys."""
    return tuple(sorted(matchers, key=Matcher.sort_key))


def matchers_string(matchers: Sequence[Matcher]) -> str:
    """``{a="1",b=~"x"}``: the form route keys are made of."""
    return "{" + ",".join(str(matcher) for matcher in matchers) + "}"


def labelset_string(labels: Mapping[str, str]) -> str:
    """``{a="1", b="2"}``, sorted by name: the form group keys are made of."""
    return "{" + ", ".join(f"{name}={go_quote(labels[name])}" for name in sorted(labels)) + "}"


def go_quote(text: str) -> str:
    """``text`` in double quotes with Go's ``%q`` escapes (as Alertmanager prints label values)."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif not char.isprintable():
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _ends_in_escape(body: str) -> bool:
    trailing = len(body) - len(body.rstrip("\\"))
    return trailing % 2 == 1


def _unquote_body(body: str, whole: str) -> str:
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _ESCAPES:
            raise ValueError(f"{whole.strip()!r}: unknown escape '\\{escaped}' in a quoted string")
        out.append(_ESCAPES[escaped])
    return "".join(out)


def _split_commas(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in body:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
