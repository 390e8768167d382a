"""Where the archive's files live, behind one small interface.

``ArchiveStorage`` is everything the writer and the verifier need: list and
read objects, create write-once objects (checkpoints, seal manifests), and
keep one appendable object at a time (the open segment, created if missing)
that is sealed when full. ``LocalStorage`` implements it on a directory:

- appends are buffered in the process; once ``AppendHandle.sync()`` returns
  they are written and durable (``fsync``);
- a write-once object is written to a temporary file, synced, then linked
  into place, so it appears whole or not at all, and never replaces an
  existing one;
- sealing syncs the file and makes it read-only (mode 0444); the directory
  entry is synced after every create, link and rename.

For production, put the directory on WORM storage: a filesystem mounted
append-only (``chattr +a`` on the segment directory, ``chattr +i`` on sealed
files) or sync sealed segments and checkpoints to S3 with Object Lock in
compliance mode. An object-store backend implements the same interface:
``put_once`` maps to a conditional PUT with a retention period, and the open
segment stays on local disk until ``seal`` uploads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from pipeline.archive.errors import StorageError

__all__ = ["AppendHandle", "ArchiveStorage", "LocalStorage"]


class AppendHandle(Protocol):
    """The open segment: bytes go at the end (perhaps buffered), and are durable after ``sync``."""

    @property
    def size(self) -> int: ...

    def write(self, data: bytes) -> None: ...

    def sync(self) -> None: ...

    def close(self) -> None: ...


class ArchiveStorage(Protocol):
    """Names are relative paths with ``/`` (``segments/seg-000000000000.log``)."""

    def describe(self) -> str: ...

    def list(self, prefix: str) -> list[str]: ...

    def read(self, name: str) -> bytes: ...

    def open_read(self, name: str) -> IO[bytes]: ...

    def exists(self, name: str) -> bool: ...

    def put_once(self, name: str, data: bytes) -> None: ...

    def open_append(self, name: str) -> AppendHandle: ...

    def truncate(self, name: str, size: int) -> None: ...

    def seal(self, name: str) -> None: ...

    def is_sealed(self, name: str) -> bool: ...

    def lock(self) -> contextlib.AbstractContextManager[None]: ...


class _LocalAppend:
    """Appends are buffered in memory (up to ``BUFFER`` bytes) and written out by ``sync``."""

    BUFFER = 1024 * 1024

    def __init__(self, path: Path) -> None:
        self._path = path
        self._buffer = bytearray()
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._size = os.fstat(self._fd).st_size
        except OSError as exc:
            raise StorageError(f"{path}: cannot open for appending: {exc}") from exc

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> None:
        self._buffer += data
        self._size += len(data)
        if len(self._buffer) >= self.BUFFER:
            self._flush()

    def _flush(self) -> None:
        written = 0
        try:
            while written < len(self._buffer):
                written += os.write(self._fd, self._buffer[written:])
        except OSError as exc:
            raise StorageError(f"{self._path}: write failed: {exc}") from exc
        self._buffer.clear()

    def sync(self) -> None:
        self._flush()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise StorageError(f"{self._path}: fsync failed: {exc}") from exc

    def close(self) -> None:
        if self._fd >= 0:
            self._flush()
            os.close(self._fd)
            self._fd = -1


class LocalStorage:
    """``ArchiveStorage`` on a local directory (created if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def _path(self, name: str) -> Path:
        if name.startswith("/") or ".." in name.split("/"):
            raise StorageError(f"invalid object name {name!r}")
        return self.root / name

    def list(self, prefix: str) -> list[str]:
        directory = self._path(prefix)
        if not directory.is_dir():
            return []
        return sorted(
            f"{prefix.rstrip('/')}/{entry.name}"
            for entry in directory.iterdir()
            if entry.is_file() and not entry.name.startswith(".")
        )

    def read(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except OSError as exc:
            raise StorageError(f"{self._path(name)}: cannot read: {exc.strerror}") from exc

    def open_read(self, name: str) -> IO[bytes]:
        try:
            return self._path(name).open("rb")
        except OSError as exc:
            raise StorageError(f"{self._path(name)}: cannot read: {exc.strerror}") from exc

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def put_once(self, name: str, data: bytes) -> None:
        path = self._path(name)
        self._mkdir(path.parent)
        self._mkdir(self.root / ".tmp")  # not in the object's directory, which may be append-only
        temp = self.root / ".tmp" / f"{path.name}.{uuid.uuid4().hex}"
        try:
            with temp.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o444)
            os.link(temp, path)
        except FileExistsError:
            raise StorageError(f"{path}: already exists; write-once objects are never replaced") from None
        except OSError as exc:
            raise StorageError(f"{path}: cannot write: {exc}") from exc
        finally:
            temp.unlink(missing_ok=True)
        self._sync_dir(path.parent)

    def open_append(self, name: str) -> AppendHandle:
        path = self._path(name)
        self._mkdir(path.parent)
        handle = _LocalAppend(path)
        self._sync_dir(path.parent)
        return handle

    def truncate(self, name: str, size: int) -> None:
        path = self._path(name)
        try:
            with path.open("r+b") as handle:
                handle.truncate(size)
                os.fsync(handle.fileno())
        except OSError as exc:
            raise StorageError(f"{path}: cannot truncate: {exc}") from exc

    def seal(self, name: str) -> None:
        path = self._path(name)
        try:
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(path, 0o444)
        except OSError as exc:
            raise StorageError(f"{path}: cannot seal: {exc}") from exc
        self._sync_dir(path.parent)

    def is_sealed(self, name: str) -> bool:
        mode = self._path(name).stat().st_mode
        return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer per directory: a second one fails at once instead of interleaving."""
        self._mkdir(self.root)
        path = self.root / ".writer.lock"
        with path.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StorageError(
                    f"{self.root}: another archive writer is running on this directory; "
                    "give each worker its own archive.dir"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _mkdir(self, directory: Path) -> None:
        if not directory.is_dir():
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"{directory}: cannot create the directory: {exc}") from exc
            self._sync_dir(directory.parent)

    @staticmethod
    def _sync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
