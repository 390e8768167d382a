"""``AuditClient``: validate audit events in the caller, deliver them from a background thread.

``emit`` builds the canonical event (event id, UTC time, service, tenant,
trace context), validates it, and queues its JSON. It never waits for the
network: a sender thread with its own event loop takes batches off the queue
and hands them to the transport (aiokafka: batched and compressed). When the
broker cannot take a batch, the events go to the spool, if there is one, or
back to the queue; they are retried with backoff and the spool is replayed
once the broker answers again. ``close`` (also run at interpreter exit)
delivers what is queued, and spools what it could not deliver in time.

The async ``emit`` and the sync ``emit_sync`` share everything but the wait
under the ``block`` policy: ``emit`` awaits, ``emit_sync`` blocks the thread.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import threading
import time as _time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditwatch_sdk.buffer import Buffer, Overflow
from auditwatch_sdk.build import build_event
from auditwatch_sdk.schema import Actor, AuditEvent, Resource
from auditwatch_sdk.spool import Spool
from auditwatch_sdk.transport import KafkaTransport, Transport

__all__ = ["AuditClient", "ClientStats"]

log = logging.getLogger("auditwatch_sdk")


@dataclass
class ClientStats:
    """Counters since the client started. ``dropped`` counts events given up by the
    overflow policy (or a full spool); nothing else is ever dropped."""

    emitted: int
    sent: int
    queued: int
    dropped: int
    spooled: int
    spool_bytes: int
    failed_batches: int
    connected: bool


class AuditClient:
    """Emit canonical audit events from a service.

    - ``service``, ``tenant_id``, ``system``: ``origin.service``, ``tenant_id`` and
      ``origin.system`` of every event (a call may override ``tenant_id``).
    - ``queue_size`` and ``overflow`` (``block``, ``drop_oldest``, ``spool``): the bounded
      queue and what happens when it is full (see ``auditwatch_sdk.buffer``);
      ``block_timeout`` bounds the wait under ``block``.
    - ``spool_dir``, ``spool_max_bytes``: where undeliverable events wait on disk. Without
      it, a failed batch goes back to the queue and the overflow policy applies.
    - ``batch_size``, ``linger``: the sender takes up to ``batch_size`` events every
      ``linger`` seconds, or as soon as a full batch is queued.
    - ``retry_backoff``: first and longest pause after a failed batch (doubling).
    - ``close_timeout``: how long ``close`` tries to deliver before spooling the rest.

    >>> from auditwatch_sdk.transport import MemoryTransport
    >>> client = AuditClient(MemoryTransport(), service="billing", tenant_id="acme")
    >>> event = client.emit_sync("alice", "invoice.refund", {"type": "invoice", "id": "in_42"}, "success")
    >>> (event.origin.service, event.tenant_id, event.actor.id, event.resource.id)
    ('billing', 'acme', 'alice', 'in_42')
    >>> client.close()
    """

    def __init__(
        self,
        transport: Transport,
        *,
        service: str,
        tenant_id: str = "default",
        system: str = "app",
        queue_size: int = 10_000,
        overflow: Overflow | str = Overflow.DROP_OLDEST,
        spool_dir: Path | str | None = None,
        spool_max_bytes: int = 1 << 30,
        block_timeout: float = 1.0,
        batch_size: int = 500,
        linger: float = 0.05,
        retry_backoff: tuple[float, float] = (0.2, 5.0),
        close_timeout: float = 10.0,
    ) -> None:
        self.transport = transport
        self.service = service
        self.tenant_id = tenant_id
        self.system = system
        self.batch_size = batch_size
        self.linger = linger
        self.retry_backoff = retry_backoff
        self.close_timeout = close_timeout
        self.spool = Spool(spool_dir, spool_max_bytes) if spool_dir is not None else None
        self._buffer = Buffer(queue_size, Overflow(overflow), self.spool, block_timeout)
        self._emitted = 0
        self._sent = 0
        self._failed_batches = 0
        self._connected = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._closing = False
        self._closed = False
        self._ready = threading.Event()

    @classmethod
    def kafka(
        cls,
        bootstrap: str,
        *,
        service: str,
        topic: str = "audit.raw",
        compression: str = "gzip",
        timeout: float = 10.0,
        producer_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> AuditClient:
        """A client that sends to ``topic`` (auditwatch's raw topic) on a Kafka cluster.

        ``timeout`` bounds one batch's delivery; ``producer_options`` go to aiokafka's
        producer (security settings, for example); other options go to ``AuditClient``."""
        transport = KafkaTransport(
            bootstrap, topic, compression=compression, timeout=timeout, **(producer_options or {})
        )
        return cls(transport, service=service, **options)

    # -- building and emitting ------------------------------------------------------

    def build(
        self,
        actor: str | Actor | Mapping[str, Any],
        action: str,
        resource: str | Resource | Mapping[str, Any] | None = None,
        outcome: str = "unknown",
        **fields: Any,
    ) -> AuditEvent:
        """The validated event ``emit`` would send. Keyword arguments that name a canonical
        field (``category``, ``reason``, ``request_id``, ``source``...) set it; any other goes
        to ``extra``, with secret-looking keys redacted. Raises ``InvalidEvent``."""
        return build_event(
            actor,
            action,
            resource,
            outcome,
            origin={"system": self.system, "service": self.service},
            **{"tenant_id": self.tenant_id, **fields},
        )

    def emit_sync(
        self,
        actor: str | Actor | Mapping[str, Any],
        action: str,
        resource: str | Resource | Mapping[str, Any] | None = None,
        outcome: str = "unknown",
        **fields: Any,
    ) -> AuditEvent:
        """Validate and queue one event; returns it. Raises ``InvalidEvent`` only."""
        event = self.build(actor, action, resource, outcome, **fields)
        self.enqueue(event)
        return event

    async def emit(
        self,
        actor: str | Actor | Mapping[str, Any],
        action: str,
        resource: str | Resource | Mapping[str, Any] | None = None,
        outcome: str = "unknown",
        **fields: Any,
    ) -> AuditEvent:
        """Validate and queue one event; returns it. Raises ``InvalidEvent`` only. Under the
        ``block`` policy a full queue is awaited (never blocking the loop)."""
        event = self.build(actor, action, resource, outcome, **fields)
        await self.enqueue_async(event)
        return event

    def enqueue(self, event: AuditEvent) -> None:
        """Queue an already validated event (the sync path)."""
        self._emitted += 1
        if self._closed:
            self._keep_after_close(_record(event))
            return
        self._start()
        self._buffer.put(_record(event))

    async def enqueue_async(self, event: AuditEvent) -> None:
        """Queue an already validated event without blocking the running loop."""
        record = _record(event)
        self._emitted += 1
        if self._closed:
            self._keep_after_close(record)
            return
        self._start()
        if self._buffer.put(record, wait=False):
            return
        deadline = _time.monotonic() + self._buffer.block_timeout
        while _time.monotonic() < deadline:
            await asyncio.sleep(0.005)
            if self._buffer.put(record, wait=False):
                return
        self._buffer.drop()

    def _keep_after_close(self, record: bytes) -> None:
        """An event emitted after ``close``: spooled for the next run, or counted as dropped."""
        self._park([record])
        if self.spool is not None:
            self.spool.close()

    @property
    def stats(self) -> ClientStats:
        return ClientStats(
            emitted=self._emitted,
            sent=self._sent,
            queued=len(self._buffer),
            dropped=self._buffer.dropped,
            spooled=self._buffer.spooled,
            spool_bytes=self.spool.size if self.spool else 0,
            failed_batches=self._failed_batches,
            connected=self._connected,
        )

    # -- lifecycle --------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="auditwatch-sdk-sender", daemon=True)
            self._thread.start()
            self._ready.wait(5)
            _open_clients.add(self)

    def start(self) -> None:
        """Start the sender now (``emit`` starts it on first use)."""
        self._start()

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is queued, within ``timeout`` (default ``close_timeout``) seconds.

        What the broker did not take by then is spooled when there is a spool, and
        otherwise counted as dropped. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._closing = True
        limit = self.close_timeout if timeout is None else timeout
        self.close_timeout = limit
        try:
            loop.call_soon_threadsafe(self._wake_sender)
        except RuntimeError:  # the sender's loop has already ended
            return
        thread.join(limit + 5)
        _open_clients.discard(self)

    async def aclose(self, timeout: float | None = None) -> None:
        await asyncio.to_thread(self.close, timeout)

    async def __aenter__(self) -> AuditClient:
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> AuditClient:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the sender thread --------------------------------------------------------------

    def _wake_sender(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._sender())
        except Exception:
            log.exception("auditwatch SDK sender stopped")
        finally:
            loop.close()

    async def _sender(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        wake = self._wake

        def on_wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has ended: close() is draining
                loop.call_soon_threadsafe(wake.set)

        self._buffer.wake_at = self.batch_size
        self._buffer.on_wake = on_wake
        self._ready.set()
        try:
            await self.transport.start()
            self._connected = True
        except Exception as exc:
            log.warning("auditwatch SDK: broker not reachable yet, keeping events: %s", exc)
        backoff = self.retry_backoff[0]
        deadline: float | None = None
        while True:
            if self._closing and deadline is None:
                deadline = _time.monotonic() + self.close_timeout
            if deadline is not None and _time.monotonic() >= deadline:
                break
            if (
                not self._closing
                and self.spool is not None
                and self.spool.size
                and (self._connected or not len(self._buffer))
            ):
                if not await self._replay_spool():
                    await self._pause(backoff)
                    backoff = min(backoff * 2, self.retry_backoff[1])
                continue
            batch = self._buffer.take(self.batch_size)
            if not batch:
                if self._closing:
                    break
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.linger)
                continue
            if await self._deliver(batch):
                backoff = self.retry_backoff[0]
            else:
                self._park(batch)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.retry_backoff[1])
        self._park(self._buffer.take(len(self._buffer)))
        await self.transport.stop()
        if self.spool is not None:
            self.spool.close()

    async def _pause(self, seconds: float) -> None:
        assert self._wake is not None
        if self._closing:
            await asyncio.sleep(min(seconds, 0.2))
            return
        await asyncio.sleep(seconds)

    async def _deliver(self, batch: list[bytes]) -> bool:
        try:
            await self.transport.send(batch)
        except Exception as exc:
            if self._connected:
                log.warning("auditwatch SDK: delivery failed, keeping events: %s", exc)
            self._connected = False
            self._failed_batches += 1
            return False
        if not self._connected:
            log.info("auditwatch SDK: delivering again")
        self._connected = True
        self._sent += len(batch)
        return True

    def _park(self, batch: list[bytes]) -> None:
        """Keep undelivered records: on disk when there is a spool, else back in the queue."""
        if not batch:
            return
        if self.spool is not None:
            written = self.spool.write(batch)
            self._buffer.spooled += written
            self._buffer.dropped += len(batch) - written
        elif self._closing or self._closed:
            self._buffer.dropped += len(batch)
        else:
            self._buffer.give_back(batch)

    async def _replay_spool(self) -> bool:
        assert self.spool is not None
        for path in self.spool.pending():
            records = self.spool.read(path)
            for start in range(0, len(records), self.batch_size):
                if not await self._deliver(records[start : start + self.batch_size]):
                    return False
            self.spool.done(path)
        return True


def _record(event: AuditEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


_open_clients: weakref.WeakSet[AuditClient] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for client in list(_open_clients):
        client.close()
