"""Which events a rule's Sigma ``logsource`` selects.

| Sigma key  | event field                            | match                                          |
|------------|----------------------------------------|------------------------------------------------|
| category   | ``category``                           | equal (``authentication``, ``authorization``...) |
| product    | ``origin.system``                      | its first dotted part, or an alias below       |
| service    | ``origin.system`` / ``origin.service`` | the system's remaining part, or the service    |

SigmaHQ's logsources for the adapters' formats select that adapter's events:

| SigmaHQ logsource              | events                                   |
|--------------------------------|------------------------------------------|
| ``aws`` / ``cloudtrail``       | ``origin.system = aws.cloudtrail``       |
| ``okta`` / ``okta``            | ``okta``                                 |
| ``github`` / ``audit``         | ``github.audit``                         |
| ``kubernetes`` / ``audit``     | ``k8s.audit`` (``kubernetes`` is ``k8s``) |
| ``linux`` / ``sshd``           | ``linux.sshd``, and ``linux.auth`` lines from sshd |
| ``linux`` / ``auth``           | ``linux.auth``                           |
| ``linux`` / ``sudo``           | ``linux.auth`` lines from sudo           |

A key the rule leaves out selects everything. SigmaHQ's umbrella category
``application`` adds no constraint. Any other category must be one of the
canonical event's categories: a rule for ``process_creation`` could never
match an audit event, so it is refused when it loads rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.events import AuditEvent, Category

__all__ = ["KNOWN_CATEGORIES", "Logsource", "logsource_matches"]

_PRODUCT_ALIASES = {"kubernetes": "k8s"}
KNOWN_CATEGORIES = frozenset(c.value for c in Category)
_UMBRELLA_CATEGORIES = frozenset({"application"})


@dataclass(frozen=True)
class Logsource:
    category: str | None = None
    product: str | None = None
    service: str | None = None

    def __post_init__(self) -> None:
        for name in ("category", "product", "service"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value).lower())

    def problem(self) -> str | None:
        """Why this logsource can select no event, or None."""
        category = self.category
        if category is not None and category not in KNOWN_CATEGORIES | _UMBRELLA_CATEGORIES:
            known = ", ".join(sorted(KNOWN_CATEGORIES))
            return (
                f"logsource category {category!r} matches no audit event; use one of {known} "
                "(or leave category out and select by product/service)"
            )
        return None

    @property
    def product_system(self) -> str | None:
        """The first part of ``origin.system`` the product selects."""
        return None if self.product is None else _PRODUCT_ALIASES.get(self.product, self.product)


def logsource_matches(logsource: Logsource, event: AuditEvent) -> bool:
    return origin_matches(logsource, event.category.value, event.origin.system, event.origin.service)


def origin_matches(logsource: Logsource, category: str, system: str, own_service: str | None) -> bool:
    """The same test on the three fields it reads (used to cache it per origin)."""
    wanted_category = logsource.category
    if wanted_category not in (None, category, *_UMBRELLA_CATEGORIES):
        return False
    product, _, rest = system.lower().partition(".")
    wanted = logsource.product_system
    if wanted is not None and wanted != product:
        return False
    # okta/okta: a one-part system is its own service.
    return logsource.service is None or logsource.service in (rest or product, (own_service or "").lower())
