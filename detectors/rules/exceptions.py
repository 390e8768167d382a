"""Falco-style structured exceptions: named lists of field values a rule leaves out.

```yaml
x-auditwatch:
  exceptions:
    - name: known_scanners
      fields: [source.ip, actor.id]
      comps: [=, startswith]        # optional; = for every field by default
      values:
        - [203.0.113.10, svc-scanner]
```

An event is excepted when, for one row of ``values``, every field compares
true with its value. Strings compare case-insensitively, as in Sigma. A list
value with ``in`` (or a list under ``=``) matches any of its items. A local
override file appends rows without touching the shipped rule:

```yaml
override: failed_login          # the rule's name or id
exceptions:
  - name: known_scanners
    values:
      - [198.51.100.20, svc-pentest]
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from detectors.rules.fields import EventView, as_text
from detectors.rules.model import ExceptionSpec

__all__ = ["CompiledException", "compile_exceptions"]

Compare = Callable[[Any, Any], bool]


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [t.casefold() for t in (as_text(i) for i in items) if t is not None]


def _equal(actual: Any, wanted: Any) -> bool:
    wanted_texts = _texts(wanted)
    return any(text in wanted_texts for text in _texts(actual))


_COMPARE: dict[str, Compare] = {
    "=": _equal,
    "in": _equal,
    "!=": lambda actual, wanted: not _equal(actual, wanted),
    "startswith": lambda a, w: any(t.startswith(x) for t in _texts(a) for x in _texts(w)),
    "endswith": lambda a, w: any(t.endswith(x) for t in _texts(a) for x in _texts(w)),
    "contains": lambda a, w: any(x in t for t in _texts(a) for x in _texts(w)),
}


@dataclass(frozen=True)
class CompiledException:
    name: str
    fields: tuple[str, ...]
    comparisons: tuple[Compare, ...]
    rows: tuple[tuple[Any, ...], ...]

    def covers(self, view: EventView) -> bool:
        if not self.rows:
            return False
        actual = [view.value(f) for f in self.fields]
        return any(
            all(compare(a, w) for compare, a, w in zip(self.comparisons, actual, row, strict=True))
            for row in self.rows
        )


def compile_exceptions(specs: list[ExceptionSpec]) -> list[CompiledException]:
    compiled = []
    for spec in specs:
        comps = spec.comps or ["="] * len(spec.fields)
        compiled.append(
            CompiledException(
                spec.name,
                tuple(spec.fields),
                tuple(_COMPARE[c] for c in comps),
                tuple(tuple(row) for row in spec.values),
            )
        )
    return compiled
