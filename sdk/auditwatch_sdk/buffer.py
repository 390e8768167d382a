"""The bounded in-memory queue between the application and the sender.

``put`` never waits for the network. When the queue is full, the overflow
policy decides:

- ``block``: the caller waits for room, at most ``block_timeout`` seconds;
  after that the event is dropped and counted.
- ``drop_oldest``: the oldest queued event is dropped and counted, and the new
  one is queued. The application never waits.
- ``spool``: the new event is appended to the local spool file and replayed
  once the broker is back. The application never waits for the network; it
  pays one buffered file append.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable

from auditwatch_sdk.spool import Spool

__all__ = ["Buffer", "Overflow"]


class Overflow(enum.StrEnum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    SPOOL = "spool"


class Buffer:
    def __init__(
        self,
        maxsize: int,
        overflow: Overflow,
        spool: Spool | None = None,
        block_timeout: float = 1.0,
    ) -> None:
        if maxsize < 1:
            raise ValueError("queue_size must be at least 1")
        if overflow is Overflow.SPOOL and spool is None:
            raise ValueError("overflow 'spool' needs a spool directory (spool_dir=...)")
        self.maxsize = maxsize
        self.overflow = overflow
        self.spool = spool
        self.block_timeout = block_timeout
        self.dropped = 0
        self.spooled = 0
        self._items: deque[bytes] = deque()
        self._cond = threading.Condition()
        self.wake_at = 1
        self.on_wake: Callable[[], None] | None = None
        """Called when the queue reaches ``wake_at`` items: how the sender is woken early.
        Below that it drains the queue on its own timer, so the application does not pay
        a cross-thread wake-up for every event."""

    def __len__(self) -> int:
        return len(self._items)

    def put(self, record: bytes, wait: bool = True) -> bool:
        """Queue one record, applying the overflow policy; False if it did not fit and
        ``wait`` is False under ``block`` (the caller may retry without blocking a loop)."""
        with self._cond:
            if len(self._items) >= self.maxsize:
                if self.overflow is Overflow.DROP_OLDEST:
                    self._items.popleft()
                    self.dropped += 1
                elif self.overflow is Overflow.SPOOL:
                    assert self.spool is not None
                    if self.spool.write([record]):
                        self.spooled += 1
                    else:
                        self.dropped += 1
                    return True
                elif not wait:
                    return False
                elif not self._cond.wait_for(lambda: len(self._items) < self.maxsize, self.block_timeout):
                    self.dropped += 1
                    return True
            self._items.append(record)
            wake = len(self._items) == self.wake_at
        if wake and self.on_wake is not None:
            self.on_wake()
        return True

    def drop(self) -> None:
        """Count an event given up by a caller that could not wait for room."""
        with self._cond:
            self.dropped += 1

    def take(self, limit: int) -> list[bytes]:
        with self._cond:
            count = min(limit, len(self._items))
            batch = [self._items.popleft() for _ in range(count)]
            if count:
                self._cond.notify_all()
            return batch

    def give_back(self, records: list[bytes]) -> None:
        """Put undelivered records back at the front; past the bound the newest are dropped and counted."""
        with self._cond:
            self._items.extendleft(reversed(records))
            while len(self._items) > self.maxsize:
                self._items.pop()
                self.dropped += 1
