"""Where batches go. The network seam is one method, ``send``, so tests and
benchmarks swap in ``MemoryTransport`` instead of patching aiokafka.

``KafkaTransport`` batches and compresses with aiokafka's producer (``acks=all``,
gzip by default). aiokafka is imported when the transport starts, so importing
the SDK costs pydantic only.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from typing import Any, Protocol

from auditwatch_sdk.errors import TransportError

__all__ = ["KafkaTransport", "MemoryTransport", "Transport"]


class Transport(Protocol):
    async def start(self) -> None: ...

    async def send(self, records: list[bytes]) -> None:
        """Deliver records, or raise ``TransportError``. All or nothing is not required:
        on an error the caller treats the whole batch as undelivered (at least once)."""

    async def stop(self) -> None: ...


class KafkaTransport:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        compression: str = "gzip",
        linger_ms: int = 20,
        max_batch_bytes: int = 512 * 1024,
        timeout: float = 10.0,
        **producer_options: Any,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout = timeout
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "acks": "all",
            "compression_type": compression,
            "linger_ms": linger_ms,
            "max_batch_size": max_batch_bytes,
            "request_timeout_ms": int(timeout * 1000),
            "retry_backoff_ms": 200,
            **producer_options,
        }
        self._producer: Any = None

    async def start(self) -> None:
        aiokafka = importlib.import_module("aiokafka")
        producer = aiokafka.AIOKafkaProducer(**self._options)
        try:
            await asyncio.wait_for(producer.start(), self.timeout)
        except Exception as exc:
            await _quiet_stop(producer)
            raise TransportError(f"cannot reach Kafka at {self.bootstrap}: {exc!r}") from exc
        self._producer = producer

    async def send(self, records: list[bytes]) -> None:
        if self._producer is None:
            await self.start()
        producer = self._producer
        try:
            futures = [await producer.send(self.topic, value) for value in records]
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout + 2)
        except Exception as exc:
            # A producer left running against a dead broker reconnects in a tight loop;
            # drop it, and let the client's backoff decide when to try a new one.
            await self.stop()
            raise TransportError(
                f"Kafka at {self.bootstrap} did not take {len(records)} events: {exc!r}"
            ) from exc

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _quiet_stop(producer)


async def _quiet_stop(producer: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), 5)


class MemoryTransport:
    """Keeps what it is sent, in ``records``; ``fail`` makes ``send`` raise (an outage)."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.fail = False

    async def start(self) -> None:
        if self.fail:
            raise TransportError("memory transport is failing")

    async def send(self, records: list[bytes]) -> None:
        if self.fail:
            raise TransportError("memory transport is failing")
        self.records.extend(records)

    async def stop(self) -> None:
        pass
