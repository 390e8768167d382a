"""Which detection rules can possibly match an event, without testing them all.

Three levels, computed once per rule set:

1. **Logsource.** The rules whose logsource admits an event's
   (category, origin.system, origin.service) are listed once per such triple
   and cached; an audit stream has few triples.
2. **Anchors.** Most rules require one field to equal one of a few literal
   values (``eventName: [StopLogging, DeleteTrail]``, ``action: repo.destroy``).
   Such a field is the rule's anchor; rules are grouped per anchor field in a
   hash map from value to rules, so one lookup per anchor field finds every
   candidate. Of the fields a rule requires, the anchor is the most selective
   in the rule set: ``action: repo.destroy`` rather than ``outcome: success``,
   which a hundred other rules require too.
3. **Fragments.** A rule that requires a field (or, for keywords, the
   record's text) to contain a literal of at least three characters
   (``contains``, ``startswith``, ``endswith``, wildcards, keywords) is filed
   under the rarest three-character piece of that literal. An event looks up
   the pieces of its own text, and only rules whose whole literal occurs in it
   are tested.

Rules with none of these (a ``not`` alone, a regular expression, ``exists``...)
are always tested. The cost per event is then about one lookup per anchor
field and per piece of the texts that fragment rules read, plus the rules that
really are candidates: it does not grow with the number of rules, only with
how many of them are candidates. A requirement is only taken where the
condition implies it: a selection that must hold, under ``and``, or the same
field on every branch of an ``or``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sigma.types import SigmaExpansion, SigmaString, SigmaType, SpecialChars

from detectors.rules.fields import EventView, as_text
from detectors.rules.logsource import origin_matches
from detectors.rules.ruleset import CompiledDetection
from detectors.rules.selection import AllOf, AnyOf, FieldItem, KeywordItem, Node
from detectors.rules.values import plain_string

__all__ = ["RuleIndex", "anchor_candidates", "anchor_of", "fragment_of"]

Anchor = tuple[str, frozenset[str]]
Fragment = tuple[str | None, frozenset[str]]
"""A field (None: the record's text) and literals one of which it must contain."""

MIN_FRAGMENT = 3
_Key = TypeVar("_Key", str, str | None)


def anchor_candidates(node: Node) -> list[Anchor]:
    """Every field and set of literal values that ``node`` requires, one of which the index uses."""
    if isinstance(node, FieldItem):
        if node.negated or (node.all and len(node.values) > 1) or not node.field:
            return []
        texts = []
        for value in node.values:
            text = plain_string(value) if isinstance(value, SigmaString) else None
            if text is None:
                return []
            texts.append(text.casefold())
        return [(node.field, frozenset(texts))] if texts else []
    if isinstance(node, AllOf):
        return [a for part in node.parts for a in anchor_candidates(part)]
    if isinstance(node, AnyOf):
        return _merge_branches([anchor_candidates(part) for part in node.parts])
    return []


def anchor_of(node: Node, frequency: dict[tuple[str, str], int] | None = None) -> Anchor | None:
    """The most selective candidate: the one whose values the fewest rules also require."""
    candidates = anchor_candidates(node)
    if not candidates:
        return None
    counts = frequency or {}
    return min(candidates, key=lambda a: (sum(counts.get((a[0], v), 1) for v in a[1]), len(a[1]), a[0]))


def fragment_candidates(node: Node) -> list[Fragment]:
    """Fields (or the record's text) that ``node`` requires to contain one of some literals."""
    if isinstance(node, FieldItem | KeywordItem):
        field = node.field if isinstance(node, FieldItem) else None
        if isinstance(node, FieldItem) and (node.negated or not node.field):
            return []
        if node.all and len(node.values) > 1:
            return []
        literals = [_longest_literal(v) for v in node.values]
        if not literals or any(lit is None or len(lit) < MIN_FRAGMENT for lit in literals):
            return []
        return [(field, frozenset(lit for lit in literals if lit))]
    if isinstance(node, AllOf):
        return [f for part in node.parts for f in fragment_candidates(part)]
    if isinstance(node, AnyOf):
        return _merge_branches([fragment_candidates(part) for part in node.parts])
    return []


def fragment_of(node: Node) -> Fragment | None:
    candidates = fragment_candidates(node)
    if not candidates:
        return None
    return max(candidates, key=lambda f: (min(len(lit) for lit in f[1]), -len(f[1])))


def _merge_branches(branches: list[list[tuple[_Key, frozenset[str]]]]) -> list[tuple[_Key, frozenset[str]]]:
    """What every branch of an ``or`` requires of one field: the union of their literals."""
    if not branches or not all(branches):
        return []
    shared = set.intersection(*({field for field, _ in b} for b in branches))
    merged = []
    for field in sorted(shared, key=str):
        values: set[str] = set()
        for branch in branches:
            values |= min((v for f, v in branch if f == field), key=len)
        merged.append((field, frozenset(values)))
    return merged


def _longest_literal(value: SigmaType) -> str | None:
    """The longest wildcard-free run of a string value, folded; None if the value is no string."""
    if isinstance(value, SigmaExpansion):
        return None
    if not isinstance(value, SigmaString):
        return None
    runs, current = [], []
    for part in value.s:
        if isinstance(part, str):
            current.append(part)
        elif part in (SpecialChars.WILDCARD_MULTI, SpecialChars.WILDCARD_SINGLE):
            runs.append("".join(current))
            current = []
        else:
            return None
    runs.append("".join(current))
    return max(runs, key=len).casefold()


def _pieces(text: str) -> set[str]:
    return {text[i : i + MIN_FRAGMENT] for i in range(len(text) - MIN_FRAGMENT + 1)}


@dataclass(frozen=True)
class _Slice:
    """The candidates for one (category, system, service)."""

    by_field: tuple[tuple[str, dict[str, tuple[int, ...]]], ...]
    by_piece: tuple[tuple[str | None, dict[str, tuple[tuple[str, int], ...]]], ...]
    always: tuple[int, ...]


class RuleIndex:
    def __init__(self, detections: Sequence[CompiledDetection]) -> None:
        self.detections = list(detections)
        frequency: dict[tuple[str, str], int] = {}
        for detection in self.detections:
            for field, values in set(anchor_candidates(detection.block.condition)):
                for value in values:
                    frequency[(field, value)] = frequency.get((field, value), 0) + 1
        self.anchors = [anchor_of(d.block.condition, frequency) for d in self.detections]
        self.fragments = [
            None if anchor is not None else fragment_of(d.block.condition)
            for d, anchor in zip(self.detections, self.anchors, strict=True)
        ]
        piece_count: dict[str, int] = {}
        for fragment in self.fragments:
            for literal in fragment[1] if fragment else ():
                for piece in _pieces(literal):
                    piece_count[piece] = piece_count.get(piece, 0) + 1
        self._piece_count = piece_count
        self._slices: dict[tuple[str, str, str | None], _Slice] = {}

    @property
    def anchored(self) -> int:
        """How many rules the index narrows (by an anchor or a fragment)."""
        return sum(
            1 for a, f in zip(self.anchors, self.fragments, strict=True) if a is not None or f is not None
        )

    def _slice(self, category: str, system: str, service: str | None) -> _Slice:
        key = (category, system, service)
        found = self._slices.get(key)
        if found is not None:
            return found
        by_field: dict[str, dict[str, list[int]]] = {}
        by_piece: dict[str | None, dict[str, list[tuple[str, int]]]] = {}
        always: list[int] = []
        for position, detection in enumerate(self.detections):
            if not origin_matches(detection.logsource, category, system, service):
                continue
            anchor, fragment = self.anchors[position], self.fragments[position]
            if anchor is not None:
                values = by_field.setdefault(anchor[0], {})
                for value in anchor[1]:
                    values.setdefault(value, []).append(position)
            elif fragment is not None:
                pieces = by_piece.setdefault(fragment[0], {})
                for literal in fragment[1]:
                    rarest = min(_pieces(literal), key=lambda p: (self._piece_count.get(p, 0), p))
                    pieces.setdefault(rarest, []).append((literal, position))
            else:
                always.append(position)
        made = _Slice(
            tuple((f, {v: tuple(p) for v, p in m.items()}) for f, m in by_field.items()),
            tuple((f, {p: tuple(e) for p, e in m.items()}) for f, m in by_piece.items()),
            tuple(always),
        )
        if len(self._slices) < 4096:
            self._slices[key] = made
        return made

    def candidates(self, view: EventView) -> list[CompiledDetection]:
        """The rules worth testing on this event, in rule-set order."""
        event = view.event
        part = self._slice(event.category.value, event.origin.system, event.origin.service)
        positions: list[int] = list(part.always)
        for field, values in part.by_field:
            actual = view.get(field)
            for element in actual if isinstance(actual, list) else (actual,):
                text = as_text(element)
                if text is not None:
                    found = values.get(text.casefold())
                    if found:
                        positions.extend(found)
        for source, pieces in part.by_piece:
            texts = view.text() if source is None else _texts(view, source)
            for content in texts:
                folded = content.casefold()
                for piece in _pieces(folded) & pieces.keys():
                    positions.extend(p for literal, p in pieces[piece] if literal in folded)
        if len(positions) > 1 and (part.by_field or part.by_piece or len(part.always) != len(positions)):
            positions = sorted(set(positions))
        detections = self.detections
        return [detections[p] for p in positions]


def _texts(view: EventView, field: str) -> list[str]:
    actual = view.get(field)
    elements = actual if isinstance(actual, list) else [actual]
    return [t for t in (as_text(e) for e in elements) if t is not None]
