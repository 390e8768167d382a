"""Inhibition: an alert is muted while a related, more important alert fires.

Alertmanager's semantics (``inhibit/inhibit.go``): a *target* alert is
inhibited by a rule when the rule's target matchers match it and some *source*
alert that is still firing matches the source matchers and has the same value
(missing is the empty string) for every label in ``equal``. An alert that
matches both sides of a rule is not inhibited by a source that also matches
both sides, so an alert never inhibits itself or its peers.

:class:`ActiveAlerts` is the index of firing alerts the inhibitor looks
sources up in; it keeps, per rule, only the alerts matching the rule's source
side, and forgets alerts once they are resolved.

>>> rules = [InhibitRule.of(InhibitRuleConfig.model_validate({
...     "source_matchers": ['severity="critical"'], "target_matchers": ['severity="high"'],
...     "equal": ["entity"]}))]
>>> active = ActiveAlerts(rules)
>>> from datetime import datetime, UTC, timedelta
>>> now = datetime(2024, 5, 1, tzinfo=UTC)
>>> active.add("a1", {"severity": "critical", "entity": "alice"}, now + timedelta(minutes=5))
>>> Inhibitor(active).mutes({"severity": "high", "entity": "alice"}, now)
'inhibited by a1 (rule 0)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.router.config import InhibitRuleConfig
from alerts.router.matchers import Matcher, matchers_match

__all__ = ["ActiveAlerts", "InhibitRule", "Inhibitor"]


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def of(cls, config: InhibitRuleConfig) -> InhibitRule:
        return cls(tuple(config.source()), tuple(config.target()), tuple(config.equal))


@dataclass
class _Entry:
    labels: Mapping[str, str]
    ends_at: datetime


class ActiveAlerts:
    """Firing alerts, indexed by the inhibit rules whose source side they match."""

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = tuple(rules)
        self._sources: list[dict[str, _Entry]] = [{} for _ in self.rules]

    def add(self, fingerprint: str, labels: Mapping[str, str], ends_at: datetime) -> None:
        """Record (or refresh) an alert; it is a source until ``ends_at``."""
        for index, rule in enumerate(self.rules):
            if matchers_match(rule.source, labels):
                known = self._sources[index].get(fingerprint)
                if known is None or known.ends_at < ends_at:
                    self._sources[index][fingerprint] = _Entry(dict(labels), ends_at)

    def prune(self, now: datetime) -> int:
        """Forget resolved alerts; returns how many entries went."""
        removed = 0
        for sources in self._sources:
            for fingerprint in [fp for fp, entry in sources.items() if entry.ends_at <= now]:
                del sources[fingerprint]
                removed += 1
        return removed

    def sources(self, rule_index: int, now: datetime) -> Iterable[tuple[str, Mapping[str, str]]]:
        """The firing alerts that match rule ``rule_index``'s source side."""
        for fingerprint, entry in self._sources[rule_index].items():
            if entry.ends_at > now:
                yield fingerprint, entry.labels

    def __len__(self) -> int:
        return len({fp for sources in self._sources for fp in sources})


class Inhibitor:
    """The :class:`~alerts.router.mute.Muter` for inhibit rules over :class:`ActiveAlerts`."""

    def __init__(self, active: ActiveAlerts) -> None:
        self.active = active
        self.rules = active.rules

    def mutes(self, labels: Mapping[str, str], now: datetime) -> str | None:
        for index, rule in enumerate(self.rules):
            if not matchers_match(rule.target, labels):
                continue
            two_sided = matchers_match(rule.source, labels)
            for fingerprint, source in self.active.sources(index, now):
                if any(source.get(name, "") != labels.get(name, "") for name in rule.equal):
                    continue
                if two_sided and matchers_match(rule.target, source):
                    continue
                return f"inhibited by {fingerprint} (rule {index})"
        return None
