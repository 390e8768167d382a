"""Signed checkpoints: the log's size and root at a moment, chained and signed.

A checkpoint is a small JSON object, stored once as ``checkpoints/cp-<number>.json``::

    {"key_id": "9f1c...", "number": 7, "origin": "auditwatch/prod", "previous": "<hex>",
     "root": "<hex>", "signature": "<base64>", "size": 1200, "time": "2026-01-01T10:00:00Z", "v": 1}

- ``origin`` names the log (as in C2SP checkpoints); ``number`` counts
  checkpoints from 0; ``size`` and ``root`` are the Merkle tree's; ``time``
  is the writer's clock;
- ``previous`` is the SHA-256 of the previous checkpoint's stored bytes
  (signature included), like CloudTrail's digest chain; ``null`` for number 0;
- the Ed25519 signature covers ``SIGNING_CONTEXT`` followed by the canonical
  JSON of every other field, so a signature cannot be moved to another kind of
  message, and ``key_id`` (the fingerprint of the signing key) is signed too.

Checkpoints are written every N records and on a timer, also when no record
arrived (an empty checkpoint says "nothing happened" and that the writer was
alive), as CloudTrail writes empty digest files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pipeline.archive.canonical import canonical_json
from pipeline.archive.errors import RecordFormatError
from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.storage import ArchiveStorage

__all__ = [
    "CHECKPOINT_DIR",
    "SIGNING_CONTEXT",
    "Checkpoint",
    "checkpoint_name",
    "checkpoint_names",
    "number_of",
]

CHECKPOINT_DIR = "checkpoints"
SIGNING_CONTEXT = b"auditwatch archive checkpoint v1\n"
_NAME = re.compile(r"^checkpoints/cp-(\d{12})\.json$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = frozenset({"key_id", "number", "origin", "previous", "root", "signature", "size", "time", "v"})


def checkpoint_name(number: int) -> str:
    return f"{CHECKPOINT_DIR}/cp-{number:012d}.json"


def number_of(name: str) -> int | None:
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


def checkpoint_names(storage: ArchiveStorage) -> list[str]:
    return [name for name in storage.list(CHECKPOINT_DIR) if number_of(name) is not None]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    number: int
    size: int
    root: bytes
    time: str
    previous: bytes | None
    key_id: str
    signature: bytes

    def body(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "number": self.number,
            "origin": self.origin,
            "previous": self.previous.hex() if self.previous is not None else None,
            "root": self.root.hex(),
            "size": self.size,
            "time": self.time,
            "v": 1,
        }

    def signed_message(self) -> bytes:
        return SIGNING_CONTEXT + canonical_json(self.body())

    def to_bytes(self) -> bytes:
        return canonical_json({**self.body(), "signature": base64.b64encode(self.signature).decode()})

    def to_json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.to_bytes())
        return parsed

    def digest(self) -> bytes:
        """What the next checkpoint's ``previous`` holds."""
        return hashlib.sha256(self.to_bytes()).digest()

    def verify(self, keyring: Keyring) -> None:
        """Raises ``UnknownKeyError`` or ``SignatureError``."""
        keyring.verify(self.key_id, self.signature, self.signed_message())

    def describe(self) -> str:
        return f"checkpoint {self.number} (size {self.size}, {self.time})"

    @classmethod
    def create(
        cls,
        signer: Signer,
        *,
        origin: str,
        number: int,
        size: int,
        root: bytes,
        time: str,
        previous: Checkpoint | None,
    ) -> Checkpoint:
        unsigned = cls(
            origin=origin,
            number=number,
            size=size,
            root=root,
            time=time,
            previous=previous.digest() if previous is not None else None,
            key_id=signer.key_id,
            signature=b"",
        )
        return cls(**{**unsigned.__dict__, "signature": signer.sign(unsigned.signed_message())})

    @classmethod
    def from_json(cls, parsed: Any) -> Checkpoint:
        try:
            if not isinstance(parsed, dict) or parsed.get("v") != 1:
                raise ValueError("not a version 1 checkpoint")
            if set(parsed) != _FIELDS:
                raise ValueError(f"fields must be exactly {', '.join(sorted(_FIELDS))}")
            previous = parsed["previous"]
            root = parsed["root"]
            if not _HEX64.match(root) or (previous is not None and not _HEX64.match(previous)):
                raise ValueError("root and previous must be 64 hex digits")
            number, size = parsed["number"], parsed["size"]
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (number, size)):
                raise ValueError("number and size must be non-negative integers")
            for name in ("origin", "time", "key_id"):
                if not isinstance(parsed[name], str):
                    raise ValueError(f"{name} must be a string")
            return cls(
                origin=parsed["origin"],
                number=number,
                size=size,
                root=bytes.fromhex(root),
                time=parsed["time"],
                previous=bytes.fromhex(previous) if previous is not None else None,
                key_id=parsed["key_id"],
                signature=base64.b64decode(parsed["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise RecordFormatError(f"not a checkpoint: {exc}") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordFormatError(f"not a checkpoint: not JSON ({exc})") from None
        return cls.from_json(parsed)
