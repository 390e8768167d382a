"""Say what a finding means in one title and one sentence.

An on-call engineer reads the notification on a phone before opening anything
else, so the summary answers who did what, where, how many times and when:

    5 failed login events by actor.id=alice between 10:00:01 and 10:00:40 UTC
    on 2024-05-01 (>= 5 in 60s) from 203.0.113.7

Everything is taken from the finding: its group (who), the actions and outcomes
of its evidence samples (what), their source addresses and resources (where),
its count and threshold (how many) and its first and last times (when). Parts
the finding does not know are left out rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from detectors.findings import Finding

__all__ = ["as_utc", "evidence_line", "summary_for", "title_for"]

# How many distinct values of one kind a sentence names before it says "and N more".
MAX_NAMED = 3

_OUTCOME_WORDS = {"failure": "failed", "success": "successful"}
# Evidence fields read as a sentence, in this order, each after its word.
_LINE_FIELDS = (
    ("time", ""),
    ("actor", ""),
    ("action", ""),
    ("outcome", ""),
    ("source_ip", "from "),
    ("resource", "on "),
    ("origin", "via "),
)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without a zone is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def title_for(finding: Finding) -> str:
    """The rule's title and the entity it fired for: ``Failed logins burst: actor.id=alice``."""
    if not finding.group:
        return finding.rule_title
    return f"{finding.rule_title}: {finding.entity}"


def summary_for(finding: Finding) -> str:
    """One sentence: who did what, where, how many times and when.

    A rule's own output template (``Finding.summary``) wins: its author knows
    best how the finding reads.
    """
    if finding.summary:
        return finding.summary
    evidence = finding.evidence
    parts = [_what(finding.count, _distinct(evidence, "outcome"), _distinct(evidence, "action"))]
    who = _who(finding)
    if who:
        parts.append(f"by {who}")
    parts.append(_when(as_utc(finding.first_seen), as_utc(finding.last_seen)))
    if finding.threshold:
        parts.append(f"({finding.threshold})")
    sources = _distinct(evidence, "source_ip")
    if sources:
        parts.append(f"from {_names(sources)}")
    resources = _distinct(evidence, "resource")
    if resources:
        parts.append(f"on {_names(resources)}")
    return " ".join(parts)


def _what(count: int, outcomes: list[str], actions: list[str]) -> str:
    words = [str(count)]
    if len(outcomes) == 1 and outcomes[0] in _OUTCOME_WORDS:
        words.append(_OUTCOME_WORDS[outcomes[0]])
    if len(actions) == 1:
        words.append(actions[0])
    words.append("event" if count == 1 else "events")
    if len(actions) > 1:
        words.append(f"({_names(actions)})")
    return " ".join(words)


def _who(finding: Finding) -> str:
    if finding.group:
        return finding.entity
    actors = _distinct(finding.evidence, "actor")
    return _names(actors) if actors else ""


def _when(first: datetime, last: datetime) -> str:
    if first == last:
        return f"at {first:%H:%M:%S} UTC on {first:%Y-%m-%d}"
    if first.date() == last.date():
        return f"between {first:%H:%M:%S} and {last:%H:%M:%S} UTC on {first:%Y-%m-%d}"
    return f"between {first:%Y-%m-%d %H:%M:%S} and {last:%Y-%m-%d %H:%M:%S} UTC"


def _distinct(evidence: Iterable[dict[str, object]], field: str) -> list[str]:
    """The distinct non-empty values of ``field`` across the samples, in first-seen order."""
    seen: dict[str, None] = {}
    for sample in evidence:
        value = sample.get(field)
        if _present(value):
            seen.setdefault(str(value), None)
    return list(seen)


def _names(values: list[str]) -> str:
    if len(values) <= MAX_NAMED:
        return ", ".join(values)
    return f"{', '.join(values[:MAX_NAMED])} and {len(values) - MAX_NAMED} more"


def evidence_line(sample: Mapping[str, Any]) -> str:
    """One evidence sample as one line an engineer reads left to right.

    ``2024-05-01T10:00:01+00:00 alice login failure from 203.0.113.7 via okta
    reason=bad password [evt-1]``: the usual fields first, any others as
    ``key=value``, and the event id last, for looking the event up.
    """
    words = [f"{prefix}{sample[key]}" for key, prefix in _LINE_FIELDS if _present(sample.get(key))]
    known = {key for key, _ in _LINE_FIELDS} | {"event_id"}
    words += [
        f"{key}={value}" for key, value in sample.items() if key not in known and _present(value)
    ]
    if _present(sample.get("event_id")):
        words.append(f"[{sample['event_id']}]")
    return " ".join(words) or "(empty sample)"


def _present(value: object) -> bool:
    return value is not None and value != ""
