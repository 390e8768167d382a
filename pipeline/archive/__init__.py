"""The tamper-evident archive: an append-only Merkle log of events and alerts with signed checkpoints.

One concept per module:

- ``canonical``, ``records``: the versioned canonical bytes of a record (a leaf);
- ``merkle``: RFC 6962 hashing, roots, inclusion and consistency proofs;
- ``storage``, ``segments``: where the bytes live, behind a small interface;
- ``keys``, ``checkpoints``: Ed25519 keys, keyrings, and signed, chained checkpoints;
- ``writer``, ``recovery``, ``consumer``: appending, and reading back before extending;
- ``scan``, ``verify``, ``report``, ``trust``: checking everything, and remembering what was trusted;
- ``proofs``: inclusion, consistency and export bundles, checked offline;
- ``config``: the ``archive:`` section of the config file.
"""

from pipeline.archive.checkpoints import Checkpoint
from pipeline.archive.config import ArchiveConfig
from pipeline.archive.errors import (
    ArchiveError,
    ArchiveStateError,
    CanonicalError,
    KeyFileError,
    ProofError,
    RecordFormatError,
    SignatureError,
    StorageError,
    UnknownKeyError,
)
from pipeline.archive.keys import Keyring, PublicKey, Signer, load_signer
from pipeline.archive.merkle import MerkleTree, leaf_hash, node_hash, verify_consistency, verify_inclusion
from pipeline.archive.proofs import verify_bundle
from pipeline.archive.records import Kind, Record
from pipeline.archive.report import Problem, Reason, Report
from pipeline.archive.storage import ArchiveStorage, LocalStorage
from pipeline.archive.trust import FileTrustStore, TrustStore
from pipeline.archive.verify import verify_archive
from pipeline.archive.writer import ArchiveWriter, WriterSettings

__all__ = [
    "ArchiveConfig",
    "ArchiveError",
    "ArchiveStateError",
    "ArchiveStorage",
    "ArchiveWriter",
    "CanonicalError",
    "Checkpoint",
    "FileTrustStore",
    "KeyFileError",
    "Keyring",
    "Kind",
    "LocalStorage",
    "MerkleTree",
    "Problem",
    "ProofError",
    "PublicKey",
    "Reason",
    "Record",
    "RecordFormatError",
    "Report",
    "SignatureError",
    "Signer",
    "StorageError",
    "TrustStore",
    "UnknownKeyError",
    "WriterSettings",
    "leaf_hash",
    "load_signer",
    "node_hash",
    "verify_archive",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
]
