"""Which detection rules can possibly match an event, without testing them all.

Two levels, both computed once per rule set:

1. **Logsource.** The rules whose logsource admits an event's
   (category, origin.system, origin.service) are listed once per such triple
   and cached; an audit stream has few triples.
2. **Anchors.** Most rules require one field to equal one of a few literal
   values (``eventName: [StopLogging, DeleteTrail]``, ``action: repo.destroy``).
   Such a field is the rule's anchor; rules are grouped per anchor field in a
   hash map from value to rules, so one lookup per anchor field finds every
   candidate. Rules without an anchor (wildcards, keywords, ``not``...) are
   always tested.

The cost per event is then about one lookup per distinct anchor field plus the
rules that really are candidates, not the number of rules. Anchors are only
taken where the condition implies them: a selection that must hold, under
``and``, or the same field on every branch of an ``or``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sigma.types import SigmaString

from detectors.rules.fields import EventView, as_text
from detectors.rules.logsource import origin_matches
from detectors.rules.ruleset import CompiledDetection
from detectors.rules.selection import AllOf, AnyOf, FieldItem, Node
from detectors.rules.values import plain_string

__all__ = ["RuleIndex", "anchor_of"]

Anchor = tuple[str, frozenset[str]]


def anchor_of(node: Node) -> Anchor | None:
    """A field and the literal values it must have for ``node`` to match, if there is one."""
    if isinstance(node, FieldItem):
        if node.negated or (node.all and len(node.values) > 1) or not node.field:
            return None
        texts = []
        for value in node.values:
            text = plain_string(value) if isinstance(value, SigmaString) else None
            if text is None:
                return None
            texts.append(text.casefold())
        return (node.field, frozenset(texts)) if texts else None
    if isinstance(node, AllOf):
        found = [a for a in (anchor_of(part) for part in node.parts) if a is not None]
        return min(found, key=lambda a: len(a[1])) if found else None
    if isinstance(node, AnyOf):
        anchors = [anchor_of(part) for part in node.parts]
        if not anchors or any(a is None for a in anchors):
            return None
        fields = {a[0] for a in anchors if a is not None}
        if len(fields) != 1:
            return None
        return fields.pop(), frozenset().union(*(a[1] for a in anchors if a is not None))
    return None


@dataclass(frozen=True)
class _Slice:
    """The candidates for one (category, system, service)."""

    by_field: tuple[tuple[str, dict[str, tuple[int, ...]]], ...]
    always: tuple[int, ...]


class RuleIndex:
    def __init__(self, detections: Sequence[CompiledDetection]) -> None:
        self.detections = list(detections)
        self.anchors = [anchor_of(d.block.condition) for d in self.detections]
        self._slices: dict[tuple[str, str, str | None], _Slice] = {}

    @property
    def anchored(self) -> int:
        return sum(1 for a in self.anchors if a is not None)

    def _slice(self, category: str, system: str, service: str | None) -> _Slice:
        key = (category, system, service)
        found = self._slices.get(key)
        if found is not None:
            return found
        by_field: dict[str, dict[str, list[int]]] = {}
        always: list[int] = []
        for position, detection in enumerate(self.detections):
            if not origin_matches(detection.logsource, category, system, service):
                continue
            anchor = self.anchors[position]
            if anchor is None:
                always.append(position)
                continue
            values = by_field.setdefault(anchor[0], {})
            for value in anchor[1]:
                values.setdefault(value, []).append(position)
        made = _Slice(
            tuple((f, {v: tuple(p) for v, p in m.items()}) for f, m in by_field.items()),
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
        if len(positions) > 1 and (part.by_field or len(part.always) != len(positions)):
            positions = sorted(set(positions))
        detections = self.detections
        return [detections[p] for p in positions]
