"""The verifier's memory: the last checkpoint it trusted, kept away from the archive.

A writer that is compromised can rewrite its whole archive, re-sign it, and
present a consistent but different history, or roll it back to an earlier
state. Only someone who remembers a checkpoint seen before can notice. After
each successful verification, the verifier stores the latest checkpoint in a
``TrustStore``; the next run checks that the archive's latest checkpoint is not
older (a rollback) and that the log is an extension of the trusted one, with
an RFC 6962 consistency proof (otherwise a fork).

``FileTrustStore`` keeps the checkpoint in one JSON file. Put it somewhere the
archive's writer cannot write: another machine, a witness service's mount, a
directory of the auditor's. Anything with ``load`` and ``save`` can stand in
for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from pipeline.archive.checkpoints import Checkpoint
from pipeline.archive.errors import KeyFileError, RecordFormatError

__all__ = ["FileTrustStore", "TrustStore"]


class TrustStore(Protocol):
    def describe(self) -> str: ...

    def load(self) -> Checkpoint | None: ...

    def save(self, checkpoint: Checkpoint) -> None: ...


class FileTrustStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return str(self.path)

    def load(self) -> Checkpoint | None:
        if not self.path.exists():
            return None
        try:
            return Checkpoint.from_bytes(self.path.read_bytes())
        except OSError as exc:
            raise KeyFileError(f"{self.path}: cannot read the trusted checkpoint: {exc.strerror}") from None
        except RecordFormatError as exc:
            raise KeyFileError(f"{self.path}: {exc}") from None

    def save(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.tmp")
        with temp.open("wb") as handle:
            handle.write(checkpoint.to_bytes() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(self.path)
