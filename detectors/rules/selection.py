"""Compile a Sigma ``detection`` block into a tree of tests over one event.

pySigma parses every field key, modifier chain and value
(``SigmaDetectionItem.from_mapping``) and the condition (pySigma's condition
grammar); this module turns the result into nodes that evaluate an
``EventView`` and can explain their verdict. Each detection item is parsed on
its own, so every mistake in a block is reported, each with the path of the
key that caused it (pySigma's own errors carry no line).

Semantics, as in the Sigma specification:

- a map is an AND of its fields; a list of maps is an OR of them; a list of
  plain values with no field is a keyword search (any of them, anywhere in the
  record's text);
- a list of values under one field is an OR (``|all`` makes it an AND);
- ``null`` matches a missing or null field, ``|exists`` tests presence;
- ``|fieldref`` compares with another field of the same event;
- the condition knows ``and``, ``or``, ``not``, parentheses, ``1 of``/``any of``,
  ``all of`` with a name pattern or ``them`` (names starting with ``_`` are
  left out of ``them`` and of patterns, as in pySigma).

Refused with a reason: unknown modifiers, modifier chains pySigma rejects,
invalid regular expressions and networks, a ``%placeholder%`` with no value,
the legacy ``timeframe`` and ``| count()`` aggregations (write a correlation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyparsing import ParseException
from sigma.conditions import (
    ConditionAND,
    ConditionIdentifier,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionSelector,
)
from sigma.conditions import condition as condition_grammar
from sigma.exceptions import SigmaError
from sigma.modifiers import SigmaExpandModifier, reverse_modifier_mapping
from sigma.policy import SigmaPolicy
from sigma.policy.regex_engine import PythonRegexEngine
from sigma.rule.detection import SigmaDetectionItem
from sigma.types import (
    Placeholder,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
)

from detectors.events import AuditEvent
from detectors.rules.fields import MISSING, EventView, as_text
from detectors.rules.values import Matcher, ValueError_, compile_regex, compile_value, describe_value

__all__ = [
    "Node",
    "Predicate",
    "SelectionError",
    "Trace",
    "compile_block",
    "compile_detection",
]

Predicate = Callable[[AuditEvent], bool]
Path = tuple[str | int, ...]

# pySigma checks regular expressions when it parses them; RE2 checks them again
# in ``values`` with the engine that runs them.
_POLICY = SigmaPolicy(regex_engine=PythonRegexEngine())


class SelectionError(ValueError):
    """A detection block that cannot be compiled; ``path`` locates it in the rule."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class Trace:
    """Why a node matched or not: the explanation ``rules explain`` prints."""

    label: str
    matched: bool
    detail: str = ""
    children: list[Trace] = field(default_factory=list)


class Node:
    """A compiled part of a detection."""

    def match(self, view: EventView) -> bool:
        raise NotImplementedError

    def explain(self, view: EventView) -> Trace:
        raise NotImplementedError


class FieldItem(Node):
    """One ``field|modifiers: value(s)`` line."""

    def __init__(self, key: str, item: SigmaDetectionItem, values: list[SigmaType]) -> None:
        self.key = key
        self.field: str = item.field or ""
        self.values = values
        self.all = item.value_linking is ConditionAND
        self.negated = item.negated
        self.tests = [self._test(v) for v in values]
        self._scalar: list[Matcher] | None = None
        if not self.all and all(not isinstance(v, _EVENT_TESTS) for v in values):
            self._scalar = [compile_value(v) for v in values]

    def _test(self, value: SigmaType) -> Callable[[EventView, Any], bool]:
        if isinstance(value, SigmaNull):
            return lambda view, actual: actual is MISSING or actual is None
        if isinstance(value, SigmaExists):
            wanted = bool(value.exists)
            return lambda view, actual: (actual is not MISSING and actual is not None) is wanted
        if isinstance(value, SigmaFieldReference):
            return _fieldref(value)
        matcher = compile_value(value)

        def test(view: EventView, actual: Any) -> bool:
            if isinstance(actual, list):
                return any(matcher(element) for element in actual)
            return matcher(actual)

        return test

    def match(self, view: EventView) -> bool:
        actual = view.get(self.field)
        scalar = self._scalar
        if scalar is not None:
            if isinstance(actual, list):
                found = any(m(element) for element in actual for m in scalar)
            else:
                found = any(m(actual) for m in scalar)
        elif self.all:
            found = all(test(view, actual) for test in self.tests)
        else:
            found = any(test(view, actual) for test in self.tests)
        return found is not self.negated

    def explain(self, view: EventView) -> Trace:
        actual = view.get(self.field)
        matched = self.match(view)
        shown = "missing" if actual is MISSING else repr(actual)
        wanted = ", ".join(describe_value(v) for v in self.values)
        joiner = "all of" if self.all else "one of" if len(self.values) > 1 else ""
        verb = "matches" if matched != self.negated else "does not match"
        negation = " (negated)" if self.negated else ""
        detail = f"{self.field} is {shown}, which {verb} {joiner} {wanted}{negation}".replace("  ", " ")
        return Trace(self.key, matched, detail)


_EVENT_TESTS = (SigmaNull, SigmaExists, SigmaFieldReference)


def _fieldref(value: SigmaFieldReference) -> Callable[[EventView, Any], bool]:
    other_field, prefix, suffix = value.field, value.starts_with, value.ends_with

    def test(view: EventView, actual: Any) -> bool:
        wanted = as_text(view.get(other_field))
        if wanted is None:
            return False
        needle = wanted.casefold()
        for element in actual if isinstance(actual, list) else [actual]:
            text = as_text(element)
            if text is None:
                continue
            text = text.casefold()
            if (prefix and suffix and needle in text) or (
                (text.startswith(needle) if prefix else True)
                and (text.endswith(needle) if suffix else True)
                and (prefix or suffix or text == needle)
            ):
                return True
        return False

    return test


class KeywordItem(Node):
    """Values with no field: searched anywhere in the record's text."""

    def __init__(self, label: str, item: SigmaDetectionItem, values: list[SigmaType]) -> None:
        self.key = label
        self.values = values
        self.all = item.value_linking is ConditionAND
        self.matchers = [compile_value(v, keyword=True) for v in values]

    def match(self, view: EventView) -> bool:
        texts = view.text()
        if self.all:
            return all(any(m(text) for text in texts) for m in self.matchers)
        return any(m(text) for text in texts for m in self.matchers)

    def explain(self, view: EventView) -> Trace:
        matched = self.match(view)
        wanted = ", ".join(describe_value(v) for v in self.values)
        verb = "contains" if matched else "does not contain"
        quantity = "all of" if self.all else "any of"
        return Trace(self.key, matched, f"the record's text {verb} {quantity} {wanted}")


class AllOf(Node):
    def __init__(self, label: str, parts: list[Node]) -> None:
        self.label, self.parts = label, parts

    def match(self, view: EventView) -> bool:
        return all(part.match(view) for part in self.parts)

    def explain(self, view: EventView) -> Trace:
        children = [part.explain(view) for part in self.parts]
        return Trace(self.label, all(c.matched for c in children), "all of", children)


class AnyOf(Node):
    def __init__(self, label: str, parts: list[Node]) -> None:
        self.label, self.parts = label, parts

    def match(self, view: EventView) -> bool:
        return any(part.match(view) for part in self.parts)

    def explain(self, view: EventView) -> Trace:
        children = [part.explain(view) for part in self.parts]
        return Trace(self.label, any(c.matched for c in children), "any of", children)


class Not(Node):
    def __init__(self, inner: Node) -> None:
        self.inner = inner

    def match(self, view: EventView) -> bool:
        return not self.inner.match(view)

    def explain(self, view: EventView) -> Trace:
        child = self.inner.explain(view)
        return Trace("not", not child.matched, "", [child])


@dataclass
class Block:
    """A compiled detection: named selections and the condition over them."""

    selections: dict[str, Node]
    condition: Node
    condition_text: str

    def match(self, view: EventView) -> bool:
        return self.condition.match(view)

    def explain(self, view: EventView) -> Trace:
        child = self.condition.explain(view)
        return Trace(f"condition: {self.condition_text}", child.matched, "", [child])


def compile_detection(detection: dict[str, Any]) -> Predicate:
    """The predicate of a whole detection block; raises the first ``SelectionError``."""
    block, problems = compile_block(detection)
    if problems or block is None:
        raise problems[0]
    return lambda event: block.match(EventView(event))


def compile_block(
    detection: Any, placeholders: Mapping[str, Sequence[str]] | None = None
) -> tuple[Block | None, list[SelectionError]]:
    """Compile ``detection``; returns the block (None if any problem) and every problem."""
    problems: list[SelectionError] = []
    if not isinstance(detection, dict):
        return None, [SelectionError("detection must be a map of selections and a condition", ("detection",))]
    bound = placeholders or {}
    selections: dict[str, Node] = {}
    for name, body in detection.items():
        path: Path = ("detection", name)
        if name == "condition":
            continue
        if name == "timeframe":
            problems.append(
                SelectionError(
                    "'timeframe' belongs to Sigma's legacy aggregations; write a correlation rule "
                    "(for example type: event_count with timespan) instead",
                    path,
                )
            )
            continue
        node = _selection(str(name), body, path, bound, problems)
        if node is not None:
            selections[str(name)] = node
    if "condition" not in detection:
        problems.append(
            SelectionError("detection needs a 'condition', e.g. 'condition: selection'", ("detection",))
        )
        return None, problems
    condition = _condition(detection["condition"], selections, detection, problems)
    if problems or condition is None:
        return None, problems
    node, text = condition
    return Block(selections, node, text), problems


def _selection(
    name: str, body: Any, path: Path, bound: Mapping[str, Sequence[str]], problems: list[SelectionError]
) -> Node | None:
    if isinstance(body, dict):
        if not body:
            problems.append(SelectionError("a selection needs at least one field", path))
            return None
        parts = [_item(str(key), value, (*path, key), bound, problems) for key, value in body.items()]
        found = [p for p in parts if p is not None]
        return AllOf(name, found) if len(found) == len(parts) else None
    if isinstance(body, list):
        if not body:
            problems.append(SelectionError("an empty list matches nothing; give values or maps", path))
            return None
        if all(_is_scalar(v) for v in body):
            return _item(name, body, path, bound, problems, keyword=True)
        nodes: list[Node | None] = []
        for index, element in enumerate(body):
            element_path = (*path, index)
            if isinstance(element, dict | list):
                nodes.append(_selection(f"{name}[{index}]", element, element_path, bound, problems))
            else:
                nodes.append(_item(f"{name}[{index}]", element, element_path, bound, problems, keyword=True))
        found = [n for n in nodes if n is not None]
        return AnyOf(name, found) if len(found) == len(nodes) else None
    if _is_scalar(body):
        return _item(name, body, path, bound, problems, keyword=True)
    problems.append(SelectionError(f"a selection cannot be a {type(body).__name__}", path))
    return None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _item(
    key: str,
    value: Any,
    path: Path,
    bound: Mapping[str, Sequence[str]],
    problems: list[SelectionError],
    *,
    keyword: bool = False,
) -> Node | None:
    values = value if isinstance(value, list) else [value]
    for index, element in enumerate(values):
        if not _is_scalar(element):
            where = (*path, index) if isinstance(value, list) else path
            problems.append(
                SelectionError(
                    f"a value must be a string, number, boolean or null, not a {type(element).__name__}",
                    where,
                )
            )
            return None
    if isinstance(value, list) and not value:
        problems.append(SelectionError("an empty list of values matches nothing; remove the field", path))
        return None
    try:
        if keyword:
            item = SigmaDetectionItem.from_value(value, policy=_POLICY)
        else:
            item = SigmaDetectionItem.from_mapping(key, value, policy=_POLICY)
    except SigmaError as exc:
        problems.append(SelectionError(_sigma_message(exc, key), _value_path(key, value, path)))
        return None
    try:
        values_bound = _bind(item, bound)
        if item.field is None:
            return KeywordItem(key, item, values_bound)
        return FieldItem(key, item, values_bound)
    except ValueError_ as exc:
        problems.append(SelectionError(str(exc), path))
        return None


def _sigma_message(exc: SigmaError, key: str) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    if text.startswith("Unknown modifier"):
        unknown = text.split("'")[1] if "'" in text else text
        known = ", ".join(sorted(reverse_modifier_mapping.values()))
        return f"modifier {unknown!r} in {key!r} is not a Sigma modifier; known modifiers: {known}"
    if "incompatible to value type" in text:
        modifier = text.split()[1]
        name = reverse_modifier_mapping.get(modifier, modifier)
        return f"modifier '{name}' in {key!r} cannot apply to this value ({text.split('of ', 1)[-1]})"
    return f"{key!r}: {text}"


def _value_path(key: str, value: Any, path: Path) -> Path:
    """Point at the one bad value of a list when there is one."""
    if not isinstance(value, list):
        return path
    for index, element in enumerate(value):
        try:
            SigmaDetectionItem.from_mapping(key, element, policy=_POLICY)
        except SigmaError:
            return (*path, index)
    return path


def _bind(item: SigmaDetectionItem, bound: Mapping[str, Sequence[str]]) -> list[SigmaType]:
    """Expand ``%name%`` placeholders (modifier ``expand``) with their configured values."""
    if SigmaExpandModifier not in item.modifiers:
        return list(item.value)

    def values_of(placeholder: Placeholder) -> Any:
        if placeholder.name not in bound:
            known = ", ".join(sorted(bound)) or "none"
            raise ValueError_(
                f"placeholder %{placeholder.name}% is not bound to any value; define it in a "
                f"'placeholders:' document in the rules directory (defined: {known})"
            )
        yield from bound[placeholder.name]

    out: list[SigmaType] = []
    for value in item.value:
        if isinstance(value, SigmaString):
            out.append(SigmaExpansion(list(value.replace_placeholders(values_of))))
        elif isinstance(value, SigmaRegularExpression):
            expanded = value.replace_placeholders(values_of)
            for regex in expanded:
                compile_regex(str(regex.regexp), regex.flags)
            out.append(SigmaExpansion(list(expanded)))
        else:
            out.append(value)
    return out


def _condition(
    raw: Any, selections: dict[str, Node], detection: dict[str, Any], problems: list[SelectionError]
) -> tuple[Node, str] | None:
    path: Path = ("detection", "condition")
    texts = raw if isinstance(raw, list) else [raw]
    if not texts or not all(isinstance(t, str) for t in texts):
        problems.append(SelectionError("the condition must be a string expression (or a list of them)", path))
        return None
    names = [str(n) for n in detection if n not in ("condition", "timeframe")]
    nodes: list[Node] = []
    for text in texts:
        if "|" in text:
            problems.append(
                SelectionError(
                    "pipe aggregations in conditions (e.g. '| count() > 5') are Sigma's legacy form; "
                    "write a correlation rule (type: event_count or value_count, with group-by and "
                    "timespan) instead",
                    path,
                )
            )
            return None
        try:
            parsed = condition_grammar.parse_string(text, parse_all=True)[0]
        except ParseException as exc:
            problems.append(SelectionError(_parse_message(text, exc), path))
            return None
        try:
            node = _condition_node(parsed, selections, names)
        except ValueError as exc:
            problems.append(SelectionError(str(exc), path))
            return None
        if node is not None:
            nodes.append(node)
    if len(nodes) != len(texts):
        return None
    return (nodes[0] if len(nodes) == 1 else AnyOf("conditions", nodes)), " | ".join(texts)


def _parse_message(text: str, exc: ParseException) -> str:
    if exc.loc >= len(text.rstrip()):
        return f"the condition {text!r} ends too early"
    rest = text[exc.loc :].split()
    token = rest[0] if rest else text[exc.loc :]
    return f"unexpected {token!r} at character {exc.loc + 1} of the condition {text!r}"


def _condition_node(item: Any, selections: dict[str, Node], names: list[str]) -> Node | None:
    if isinstance(item, ConditionIdentifier):
        name = item.identifier
        if name in selections:
            return selections[name]
        if name in names:
            return None  # the selection itself has a problem, reported already
        raise ValueError(
            f"condition names {name!r}, which is not a selection in this detection "
            f"(selections: {', '.join(names) or 'none'})"
        )
    if isinstance(item, ConditionSelector):
        chosen = _select(item.pattern, names)
        if not chosen:
            raise ValueError(f"'{item.args[0]} of {item.pattern}' matches no selection")
        parts = [selections.get(n) for n in chosen]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        label = f"{item.args[0]} of {item.pattern}"
        return AllOf(label, found) if item.cond_class is ConditionAND else AnyOf(label, found)
    if isinstance(item, ConditionNOT):
        inner = _condition_node(item.args[0], selections, names)
        return None if inner is None else Not(inner)
    if isinstance(item, ConditionAND | ConditionOR):
        parts = [_condition_node(arg, selections, names) for arg in item.args]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        return AllOf("and", found) if isinstance(item, ConditionAND) else AnyOf("or", found)
    if isinstance(item, ConditionItem):  # pragma: no cover - the grammar yields no other items
        raise ValueError(f"unsupported condition element {type(item).__name__}")
    raise ValueError(f"unsupported condition element {item!r}")


def _select(pattern: str, names: list[str]) -> list[str]:
    """Selection names for ``1 of pattern`` / ``all of them``, as pySigma resolves them."""
    if pattern == "them":
        return [n for n in names if not n.startswith("_")]
    regex = re.compile(re.escape(pattern).replace("\\*", ".*"))
    return [n for n in names if regex.fullmatch(n) and (pattern.startswith("_") or not n.startswith("_"))]
