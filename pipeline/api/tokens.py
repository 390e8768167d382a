"""API tokens: random secrets, of which only SHA-256 hashes are ever stored.

A token is shown once, when it is created (``auditwatch token create`` or
``POST /api/v1/tokens``). The file keeps ``id``, ``name``, ``role``,
``created`` and ``sha256`` per token, is written atomically (a temporary file
renamed over it) with mode 0600, and is re-read when it changes on disk, so a
token created or revoked with the CLI takes effect in a running worker without
a restart. Presented secrets are compared with ``hmac.compare_digest`` against
every stored hash, so timing tells nothing about which hash nearly matched.

A secret has 256 bits of randomness: hashing it with plain SHA-256 (no salt,
no stretching) is enough, because it cannot be guessed from a dictionary.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.api.errors import TokenStoreError
from pipeline.api.roles import Role

__all__ = ["TOKEN_PREFIX", "TokenInfo", "TokenStore", "hash_secret"]

TOKEN_PREFIX = "awt_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """What is known of a token besides its secret; safe to list."""

    id: str
    name: str
    role: Role
    created: datetime

    def public(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.label,
            "created": self.created.isoformat(),
        }


@dataclass(frozen=True)
class _Stored:
    info: TokenInfo
    sha256: str


class TokenStore:
    """Tokens in a JSON file (or only in memory when ``path`` is None, for tests and demos)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._tokens: dict[str, _Stored] = {}
        self._stamp: tuple[int, int] | None = None
        self._refresh()

    def create(self, name: str, role: Role | str) -> tuple[TokenInfo, str]:
        """A new token; returns its description and its secret (never stored, never shown again)."""
        role = role if isinstance(role, Role) else _role(role)
        if not _NAME.match(name):
            raise TokenStoreError(
                f"token name {name!r}: use 1-64 letters, digits and . _ @ - (starting with a letter or digit)"
            )
        self._refresh()
        if any(stored.info.name == name for stored in self._tokens.values()):
            raise TokenStoreError(f"a token named {name!r} exists; revoke it first or choose another name")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(secrets.token_hex(6), name, role, datetime.now(UTC).replace(microsecond=0))
        self._tokens[info.id] = _Stored(info, hash_secret(secret))
        self._save()
        return info, secret

    def revoke(self, token_id: str) -> TokenInfo | None:
        """Remove a token; returns it, or None if there is no token with that id."""
        self._refresh()
        stored = self._tokens.pop(token_id, None)
        if stored is not None:
            self._save()
        return None if stored is None else stored.info

    def list(self) -> list[TokenInfo]:
        self._refresh()
        return sorted((s.info for s in self._tokens.values()), key=lambda info: (info.created, info.id))

    def authenticate(self, secret: str) -> TokenInfo | None:
        """The token whose hash matches ``secret``, compared in constant time against every hash."""
        self._refresh()
        presented = hash_secret(secret).encode()
        found: TokenInfo | None = None
        for stored in self._tokens.values():
            if hmac.compare_digest(presented, stored.sha256.encode()):
                found = stored.info
        return found

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._tokens, self._stamp = {}, None
            return
        except OSError as exc:
            raise TokenStoreError(f"{self.path}: cannot read the tokens file: {exc.strerror}") from None
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp != self._stamp:
            self._tokens = _parse(self.path)
            self._stamp = stamp

    def _save(self) -> None:
        if self.path is None:
            return
        entries = [
            {**stored.info.public(), "sha256": stored.sha256}
            for stored in sorted(self._tokens.values(), key=lambda s: (s.info.created, s.info.id))
        ]
        data = json.dumps({"tokens": entries}, indent=2).encode() + b"\n"
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".tokens-", dir=directory)
            try:
                os.fchmod(handle, 0o600)
                os.write(handle, data)
                os.fsync(handle)
            finally:
                os.close(handle)
            try:
                os.replace(temporary, self.path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise TokenStoreError(f"{self.path}: cannot write the tokens file: {exc.strerror}") from None
        status = self.path.stat()
        self._stamp = (status.st_mtime_ns, status.st_size)


def _role(value: str) -> Role:
    try:
        return Role.parse(value)
    except ValueError as exc:
        raise TokenStoreError(str(exc)) from None


def _parse(path: Path) -> dict[str, _Stored]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenStoreError(f"{path}: not a readable tokens file ({exc})") from None
    entries = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise TokenStoreError(f'{path}: expected {{"tokens": [...]}}')
    found: dict[str, _Stored] = {}
    for number, entry in enumerate(entries, 1):
        try:
            info = TokenInfo(
                str(entry["id"]),
                str(entry["name"]),
                Role.parse(str(entry["role"])),
                datetime.fromisoformat(str(entry["created"])),
            )
            digest = str(entry["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenStoreError(f"{path}: token {number} is malformed ({exc}); fix or remove it") from None
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise TokenStoreError(f"{path}: token {number} has no valid sha256 hash")
        found[info.id] = _Stored(info, digest)
    return found
