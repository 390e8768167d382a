"""Ed25519 signing keys, their fingerprints, and the keyring a verifier trusts.

- The signing key is a PKCS#8 PEM file (``auditwatch archive keygen`` writes
  one, mode 0600) or the PEM text itself in an environment variable. It is
  never a config value and never belongs in the repository.
- A key's fingerprint (its ``key_id``) is the SHA-256 of its raw 32-byte public
  key, in hex. Every checkpoint names the key that signed it.
- A keyring is a JSON file of public keys::

      {"keys": [{"key_id": "9f1c...", "algorithm": "ed25519",
                 "public_key": "<base64 of the raw 32 bytes>", "added": "2026-01-01T00:00:00Z"}],
       "v": 1}

  Rotating a key adds the new public key to the keyring; the old one stays, so
  older checkpoints still verify. A checkpoint whose key is not in the keyring
  fails verification as signed by an unknown key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipeline.archive.canonical import canonical_json, canonical_time
from pipeline.archive.errors import KeyFileError, SignatureError, UnknownKeyError

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "Keyring",
    "PublicKey",
    "Signer",
    "fingerprint",
    "load_signer",
]

KEY_ENV = "AUDITWATCH_ARCHIVE_SIGNING_KEY"
KEY_FILE_ENV = "AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE"


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class PublicKey:
    raw: bytes

    @property
    def key_id(self) -> str:
        return fingerprint(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def entry(self, added: datetime | None = None) -> dict[str, str]:
        return {
            "added": canonical_time(added or datetime.now(UTC)),
            "algorithm": "ed25519",
            "key_id": self.key_id,
            "public_key": base64.b64encode(self.raw).decode(),
        }


class Signer:
    """A private Ed25519 key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = PublicKey(
            key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    @property
    def key_id(self) -> str:
        return self.public.key_id

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes, where: str) -> Signer:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{where}: not an unencrypted PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{where}: not an Ed25519 key; create one with `auditwatch archive keygen`")
        return cls(key)

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def write(self, path: Path) -> None:
        """Write the key to a new file, readable by its owner only; never overwrites."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"{path}: already exists; keygen never overwrites a key") from None
        except OSError as exc:
            raise KeyFileError(f"{path}: cannot create: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.to_pem())
            handle.flush()
            os.fsync(handle.fileno())


def load_signer(key_file: Path | None, environ: Mapping[str, str] | None = None) -> Signer:
    """The signing key: ``$AUDITWATCH_ARCHIVE_SIGNING_KEY`` (PEM text), else
    ``$AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE``, else ``key_file`` (``archive.signing_key_file``)."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return Signer.from_pem(env[KEY_ENV].encode(), f"${KEY_ENV}")
    path = Path(env[KEY_FILE_ENV]) if env.get(KEY_FILE_ENV) else key_file
    if path is None:
        raise KeyFileError(
            "the archive needs a signing key: create one with `auditwatch archive keygen --out KEYFILE`, "
            f"then set archive.signing_key_file or {KEY_FILE_ENV}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the signing key: {exc.strerror}") from None
    return Signer.from_pem(data, str(path))


class Keyring:
    """The public keys a verifier trusts, by fingerprint."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys = {key.key_id: key for key in keys}
        self._added: dict[str, str] = {}

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def add(self, key: PublicKey, added: datetime | None = None) -> None:
        self._keys[key.key_id] = key
        self._added[key.key_id] = canonical_time(added or datetime.now(UTC))

    def verify(self, key_id: str, signature: bytes, message: bytes) -> None:
        """Raises ``UnknownKeyError`` or ``SignatureError``."""
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownKeyError(f"signed by unknown key {key_id[:16]}... (not in the keyring)")
        if not key.verify(signature, message):
            raise SignatureError(f"bad signature for key {key_id[:16]}...")

    @classmethod
    def load(cls, path: Path) -> Keyring:
        try:
            parsed = json.loads(path.read_bytes())
            ring = cls()
            for entry in parsed["keys"]:
                if entry.get("algorithm") != "ed25519":
                    raise ValueError(f"unsupported algorithm {entry.get('algorithm')!r}")
                key = PublicKey(base64.b64decode(entry["public_key"], validate=True))
                if len(key.raw) != 32:
                    raise ValueError("an Ed25519 public key is 32 bytes")
                if entry.get("key_id", key.key_id) != key.key_id:
                    raise ValueError(f"key_id {entry['key_id']} is not the fingerprint of its key")
                ring._keys[key.key_id] = key
                ring._added[key.key_id] = str(entry.get("added", ""))
        except OSError as exc:
            raise KeyFileError(f"{path}: cannot read the keyring: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyFileError(f"{path}: not a keyring: {exc}") from None
        return ring

    def save(self, path: Path) -> None:
        entries = []
        for key_id in self.key_ids:
            entry = self._keys[key_id].entry()
            if self._added.get(key_id):
                entry["added"] = self._added[key_id]
            entries.append(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_bytes(json.dumps({"keys": entries, "v": 1}, indent=2).encode() + b"\n")
        temp.replace(path)

    def to_bytes(self) -> bytes:
        return canonical_json({"keys": [self._keys[k].entry() for k in self.key_ids], "v": 1})
