"""The API's three roles, ordered so that "may do" is one comparison.

viewer (read) < responder (acknowledge, resolve, silence) < admin (tokens).
A token holds exactly one role; a higher role may do everything a lower one
may, so an endpoint names only the least role it needs.
"""

from __future__ import annotations

import enum

__all__ = ["Role"]


class Role(enum.IntEnum):
    VIEWER = 1
    RESPONDER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, value: str) -> Role:
        """``viewer``, ``responder`` or ``admin`` (any case); anything else is a ``ValueError``."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(role.label for role in cls)
            raise ValueError(f"unknown role {value!r}; use one of: {names}") from None

    @property
    def label(self) -> str:
        return self.name.lower()

    def allows(self, needed: Role) -> bool:
        """Whether a holder of this role may call an endpoint that needs ``needed``."""
        return self >= needed
