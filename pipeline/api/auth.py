"""Who is calling, and may they: bearer tokens checked against the token store.

Every protected route depends on ``require(role)``. It records the caller in
the request scope *before* checking the role, so the audit event of a 403
names who was refused, not only that someone was. No token gives 401 (unless
anonymous access is on, when the caller is ``anonymous`` with the viewer
role); a token that is not in the store gives 401 even then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.api.audit import ANONYMOUS
from pipeline.api.errors import TokenStoreError
from pipeline.api.roles import Role
from pipeline.api.tokens import TokenStore

log = logging.getLogger("auditwatch.api")

__all__ = ["PRINCIPAL_KEY", "Gate", "Principal", "require"]

PRINCIPAL_KEY = "auditwatch.principal"
"""Where the caller is kept in the ASGI scope, for the audit middleware."""

_bearer = HTTPBearer(auto_error=False, description="An API token: `auditwatch token create --role viewer`")


@dataclass(frozen=True)
class Principal:
    id: str | None
    name: str
    role: Role

    def public(self) -> dict[str, str | None]:
        return {"id": self.id, "name": self.name, "role": self.role.label}


@dataclass(frozen=True)
class Gate:
    tokens: TokenStore
    anonymous: bool = False

    def identify(self, credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
        """The caller, or None when the request must be refused with 401."""
        if credentials is None:
            return Principal(None, ANONYMOUS, Role.VIEWER) if self.anonymous else None
        try:
            info = self.tokens.authenticate(credentials.credentials)
        except TokenStoreError as exc:  # a damaged file is the operator's to fix, not the caller's
            log.error("refusing every token: %s", exc)
            raise HTTPException(503, "the worker cannot read its tokens file; see its log") from None
        return None if info is None else Principal(info.id, info.name, info.role)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def require(role: Role) -> Any:
    """A dependency that admits callers holding ``role`` or a higher one."""

    async def check(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal:
        gate: Gate = request.app.state.gate
        if credentials is None and request.headers.get("authorization"):
            raise _unauthorized("send the token as 'Authorization: Bearer <token>'")
        principal = gate.identify(credentials)
        if principal is None:
            raise _unauthorized("a valid API token is required" if credentials is None else "unknown token")
        request.scope[PRINCIPAL_KEY] = principal
        if not principal.role.allows(role):
            raise HTTPException(
                403, f"this needs the {role.label} role; the token has {principal.role.label}"
            )
        return principal

    return Depends(check)
