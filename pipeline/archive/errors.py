"""The archive's exceptions, rooted at ``ArchiveError`` (itself a ``PipelineError``).

- ``CanonicalError``: a value has no canonical form (a NaN, a non-string key).
- ``RecordFormatError``: stored bytes are not a record of a known version.
- ``ProofError``: an inclusion or consistency proof does not verify; the
  message says which check failed.
- ``SignatureError``: a checkpoint's signature is wrong; ``UnknownKeyError``
  when its key is not in the keyring at all.
- ``KeyFileError``: a signing key or keyring cannot be read or written.
- ``StorageError``: the storage backend refused an operation.
- ``ArchiveStateError``: the writer will not extend an archive that does not
  match its own last checkpoint, or that another writer holds.
"""

from __future__ import annotations

from pipeline.errors import PipelineError

__all__ = [
    "ArchiveError",
    "ArchiveStateError",
    "CanonicalError",
    "KeyFileError",
    "ProofError",
    "RecordFormatError",
    "SignatureError",
    "StorageError",
    "UnknownKeyError",
]


class ArchiveError(PipelineError):
    """Base of every error the archive raises on purpose."""


class CanonicalError(ArchiveError):
    """A value cannot be serialised canonically."""


class RecordFormatError(ArchiveError):
    """Bytes that should hold an archive record do not."""


class ProofError(ArchiveError):
    """A Merkle proof does not verify."""


class SignatureError(ArchiveError):
    """A checkpoint signature does not verify."""


class UnknownKeyError(SignatureError):
    """A checkpoint names a key that the keyring does not hold."""


class KeyFileError(ArchiveError):
    """A key or keyring file is missing, unreadable or malformed."""


class StorageError(ArchiveError):
    """The storage backend failed or refused an operation."""


class ArchiveStateError(ArchiveError):
    """The archive on disk cannot be extended safely."""
