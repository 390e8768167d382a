"""``access check``: does a policy grant more than its baseline? For CI, before a policy change ships.

Two kinds of excess are found, each reported once:

- ``role``: a pattern of role R is not contained in any pattern the baseline's
  role R allows (``s3:*`` exceeds ``s3:Get*``; a role the baseline lacks
  exceeds with every pattern).
- ``member``: a principal holds a role the baseline does not give them, and
  that role allows a pattern beyond everything the baseline lets the principal
  do through all their baseline roles. Moving someone between two roles of
  equal reach is not an excess.

Narrowing (fewer roles, fewer patterns, fewer members) never is.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.access.actions import contains
from pipeline.access.policy import Policy

__all__ = ["Excess", "excess_grants"]


@dataclass(frozen=True)
class Excess:
    kind: str
    """``role`` or ``member``."""
    role: str
    pattern: str
    principal: str | None = None

    def __str__(self) -> str:
        if self.principal is not None:
            return f"member {self.principal}: role {self.role} brings {self.pattern}, beyond their baseline"
        return f"role {self.role}: allows {self.pattern}, beyond the baseline's {self.role}"


def _covered(pattern: str, allowed: list[str]) -> bool:
    return any(contains(outer, pattern) for outer in allowed)


def excess_grants(policy: Policy, baseline: Policy) -> list[Excess]:
    """Every grant of ``policy`` beyond ``baseline``, in file order; empty when it is within."""
    found: list[Excess] = []
    for name, role in policy.roles.items():
        base = baseline.roles.get(name)
        allowed = list(base.allow) if base is not None else []
        found.extend(Excess("role", name, p) for p in role.allow if not _covered(p, allowed))
    for principal, roles in policy.members.items():
        base_roles = baseline.roles_of(principal)
        reach = [p for r in base_roles for p in baseline.roles[r].allow]
        for name in roles:
            if name in base_roles:
                continue
            found.extend(
                Excess("member", name, p, principal)
                for p in policy.roles[name].allow
                if not _covered(p, reach)
            )
    return found
