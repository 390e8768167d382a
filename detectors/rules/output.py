"""What a rule adds to its alerts: labels from tags, and the title/summary template.

Tags become labels the router can match on. MITRE ATT&CK tags
(``attack.t1110.001``, ``attack.credential-access``) give ``mitre_techniques``
(``T1110.001``) and ``mitre_tactics`` (``credential-access``); other tags stay
in the alert's ``tags``.

A template names fields in braces: ``{actor.id} failed {count} logins from
{source.ip}``. A name is looked up in the finding first (``count``, ``rule``,
``title``, ``severity``, ``entity``, ``threshold``, ``first_seen``,
``last_seen``, ``detail``, and the group's fields), then in the event that
completed it. An unknown name is left as written, in braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["labels_for", "render", "template_fields"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.@-]+)\}")
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
_TACTIC = re.compile(r"^attack\.([a-z][a-z_-]+)$", re.IGNORECASE)


def labels_for(tags: tuple[str, ...], extra: Mapping[str, str]) -> dict[str, str]:
    techniques = [m.group(1).upper() for t in tags if (m := _TECHNIQUE.match(t))]
    tactics = [m.group(1).lower().replace("_", "-") for t in tags if (m := _TACTIC.match(t))]
    labels: dict[str, str] = {}
    if techniques:
        labels["mitre_techniques"] = ",".join(dict.fromkeys(techniques))
    if tactics:
        labels["mitre_tactics"] = ",".join(dict.fromkeys(tactics))
    labels.update(extra)
    return labels


def template_fields(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def render(template: str, known: Mapping[str, Any], lookup: Callable[[str], Any] | None) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in known and known[name] is not None:
            return str(known[name])
        if lookup is not None:
            value = lookup(name)
            if value is not None:
                return value if isinstance(value, str) else str(value)
        return match.group(0)

    return _PLACEHOLDER.sub(replace, template)
