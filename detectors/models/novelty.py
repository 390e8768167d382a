"""Novelty for an actor, weighed by how much around the new value is already familiar.

A new value is not always news. A person's first login from home is a new IP
and a new /24, but from their usual country (and, where the source says, their
usual ASN), with their usual browser; an account takeover is a new IP in a new
country. Counting both as "new IP, new network" made first home logins the
commonest false alert. So a new source is weighed by the levels that enclose it
and are known for the actor (IP inside network inside ASN inside country): each
known enclosing level divides its weight by ``1 / KNOWN_LEVEL_WEIGHT``.

| situation | new_ip | new_network | new_country |
|---|---|---|---|
| new IP, new network, new country | 1 | 1 | 1 |
| new IP, new network, known country | 0.25 | 0.25 | 0 |
| new IP in a known network and country | 0.0625 | 0 | 0 |

A level the event does not carry (no country, no ASN) is unknown, not known: a
service's first call from a public IP weighs 1, because nothing around it is
familiar.

Resources nest the same way in their family (``resource_family``): the bucket or
folder of ``customer-exports/4411``, the numbered series of ``web-07``. A
person's first look at another report in the folder they use every day weighs
0.25; a first access to a folder they never used weighs 1. User agent and
action are not nested: new is 1.

>>> values = {"ip": "81.31.73.46", "network": "81.31.73.0/24", "asn": None, "country": "DE"}
>>> known = {"ip": False, "network": False, "asn": False, "country": True}
>>> novelty_weights(values, known)["new_ip"]
0.25
"""

from __future__ import annotations

import re
from typing import Any

from detectors.events import AuditEvent

__all__ = [
    "KNOWN_LEVEL_WEIGHT",
    "LOCATION",
    "NOVELTY",
    "PARENTS",
    "asn_of",
    "country_of",
    "novelty_weights",
    "resource_family",
]

KNOWN_LEVEL_WEIGHT = 0.25
LOCATION = ("ip", "network", "asn", "country")
"""Where an event comes from, from the most specific level to the most general."""
PARENTS: dict[str, tuple[str, ...]] = {  # what encloses each kind of value, innermost first
    **{level: LOCATION[i + 1 :] for i, level in enumerate(LOCATION)},
    "resource": ("resource_family",),
}
NOVELTY = ("ip", "network", "asn", "country", "user_agent", "resource", "resource_family", "action")
"""Everything remembered per actor in a TTL set (``asn`` only when events carry one)."""


def novelty_weights(values: dict[str, str | None], known: dict[str, bool]) -> dict[str, float]:
    """``new_<name>`` per value: 0 if absent or known, else the weight of a new value (see above)."""
    weights: dict[str, float] = {}
    for name, value in values.items():
        if value is None or known[name]:
            weights[f"new_{name}"] = 0.0
            continue
        weight = 1.0
        for level in PARENTS.get(name, ()):
            if values.get(level) is not None and known[level]:
                weight *= KNOWN_LEVEL_WEIGHT
        weights[f"new_{name}"] = weight
    return weights


def _nested(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


def country_of(event: AuditEvent) -> str | None:
    """The country of the event's source, where it says: ``extra.geo.country`` or ``extra.country``."""
    value = _nested(event.extra, "geo", "country") or event.extra.get("country")
    return str(value) if value else None


def asn_of(event: AuditEvent) -> str | None:
    """The source's autonomous system, where it says: geo.asn, asn or Okta's securityContext.asNumber."""
    value = (
        _nested(event.extra, "geo", "asn")
        or event.extra.get("asn")
        or _nested(event.extra, "securityContext", "asNumber")
    )
    return str(value) if value else None


_SERIES = re.compile(r"[-_.]?\d+$")


def resource_family(name: str | None) -> str | None:
    """The family a resource belongs to: up to its last ``/`` or ``:``, else its name without a
    trailing number; ``None`` when it has neither.

    >>> resource_family("customer-exports/4411"), resource_family("web-07"), resource_family("reports")
    ('customer-exports', 'web', None)
    """
    if not name:
        return None
    cut = max(name.rfind("/"), name.rfind(":"))
    if cut > 0:
        return name[:cut]
    family = _SERIES.sub("", name)
    return family if family and family != name else None
