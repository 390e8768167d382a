"""The ``archive:`` section of the config file.

    archive:
      enabled: true                      # run the archive agent in the worker
      dir: var/archive                   # a local directory (see storage.py for WORM storage)
      signing_key_file: /run/secrets/archive.pem   # or $AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE
      keyring: config/archive-keys.json  # public keys that `archive verify` trusts
      trusted_checkpoint: /mnt/witness/auditwatch.json  # where verify remembers the last checkpoint
      checkpoint_every: 1000             # records
      checkpoint_interval: 60            # seconds, also when nothing arrives
      segment_max_bytes: 67108864
      segment_max_age: 3600              # seconds

The signing key itself is never a config value: the file it is in, or the
``AUDITWATCH_ARCHIVE_SIGNING_KEY`` environment variable, holds it. Relative
paths are relative to the working directory, like ``kafka.state_dir``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pipeline.archive.storage import LocalStorage
from pipeline.archive.writer import WriterSettings

__all__ = ["ArchiveConfig"]


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    dir: Path = Path("var/archive")
    origin: str | None = Field(default=None, description="the log's name; default auditwatch/<kafka.app_id>")
    signing_key_file: Path | None = None
    keyring: Path | None = None
    trusted_checkpoint: Path | None = None
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_interval: float = Field(default=60.0, gt=0)
    segment_max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    segment_max_age: float = Field(default=3600.0, gt=0)
    batch_max: int = Field(default=500, ge=1, description="records taken from Kafka per fsync")
    batch_within: float = Field(default=0.2, gt=0, description="seconds to wait for a batch to fill")

    def writer_settings(self, app_id: str) -> WriterSettings:
        return WriterSettings(
            origin=self.origin or f"auditwatch/{app_id}",
            segment_max_bytes=self.segment_max_bytes,
            segment_max_age=self.segment_max_age,
            checkpoint_every=self.checkpoint_every,
            checkpoint_interval=self.checkpoint_interval,
        )

    def storage(self, directory: Path | None = None) -> LocalStorage:
        return LocalStorage(directory or self.dir)
