"""A local spool: events the broker could not take yet, kept on disk in order.

Files are JSON lines named ``spool-<time>-<seq>.jsonl`` in one directory. The
client appends to the newest file, and replays whole files, oldest first, once
the broker is back; a file is deleted only after every line in it was
delivered. A file left by a previous run is replayed by the next client that
uses the directory. Delivery is at least once: a replay interrupted half-way
sends the file again, and readers deduplicate by ``event_id``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import IO

__all__ = ["Spool"]


class Spool:
    def __init__(self, directory: Path | str, max_bytes: int = 1 << 30) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._seq = 0
        self._bytes = sum(p.stat().st_size for p in self._files())

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("spool-*.jsonl"))

    @property
    def size(self) -> int:
        """Bytes waiting on disk."""
        return self._bytes

    def write(self, records: list[bytes]) -> int:
        """Append records; returns how many fit under ``max_bytes`` (the rest are not written)."""
        with self._lock:
            if self._file is None:
                self._seq += 1
                name = f"spool-{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}.jsonl"
                self._file = (self.directory / name).open("ab")
            written = 0
            for record in records:
                if self._bytes + len(record) + 1 > self.max_bytes:
                    break
                self._file.write(record + b"\n")
                self._bytes += len(record) + 1
                written += 1
            self._file.flush()
            return written

    def pending(self) -> list[Path]:
        """Close the file being written, and return every spool file, oldest first."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            return self._files()

    def read(self, path: Path) -> list[bytes]:
        return [line for line in path.read_bytes().split(b"\n") if line]

    def done(self, path: Path) -> None:
        """Forget a file whose records were all delivered."""
        with self._lock:
            try:
                self._bytes -= path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
