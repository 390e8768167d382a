"""AuditClient with the in-memory transport: filling, validation, overflow policies, outages, shutdown."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from auditwatch_sdk import AuditClient, InvalidEvent, MemoryTransport, Overflow
from auditwatch_sdk.buffer import Buffer
from auditwatch_sdk.spool import Spool
from detectors.events import AuditEvent


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def sent(transport: MemoryTransport) -> list[dict[str, Any]]:
    return [json.loads(r) for r in transport.records]


def client(transport: MemoryTransport, **options: Any) -> AuditClient:
    return AuditClient(transport, service="billing", tenant_id="acme", retry_backoff=(0.01, 0.05), **options)


async def test_emit_fills_the_event_and_sends_valid_json() -> None:
    transport = MemoryTransport()
    async with client(transport) as c:
        event = await c.emit(
            {"id": "alice", "type": "human"},
            "invoice.refund",
            {"type": "invoice", "id": "in_1"},
            "success",
            category="api_activity",
            request_id="r-1",
            trace_id="0af7651916cd43dd8448eb211c80319c",
            amount=12,
            card_token="tok_secret",
        )
    assert event.event_id and event.time.tzinfo is not None
    (record,) = sent(transport)
    assert AuditEvent.model_validate(record) == event
    assert record["origin"] == {"system": "app", "service": "billing"}
    assert record["tenant_id"] == "acme"
    assert record["schema_version"] == "1.0"
    assert record["extra"] == {"amount": 12, "card_token": "[REDACTED]"}


def test_an_invalid_event_is_refused_before_it_is_queued() -> None:
    transport = MemoryTransport()
    c = client(transport)
    with pytest.raises(InvalidEvent, match=r"outcome: Input should be 'success', 'failure' or 'unknown'"):
        c.emit_sync("alice", "login", outcome="maybe")
    with pytest.raises(InvalidEvent, match="trace_id"):
        c.emit_sync("alice", "login", trace_id="not-hex")
    assert c.stats.emitted == 0
    assert c.build("alice", "login", tenant_id="other").tenant_id == "other"
    c.close()


def test_drop_oldest_counts_what_it_drops() -> None:
    buffer = Buffer(2, Overflow.DROP_OLDEST)
    for record in (b"1", b"2", b"3"):
        buffer.put(record)
    assert buffer.take(10) == [b"2", b"3"]
    assert buffer.dropped == 1


def test_block_waits_then_gives_up_and_counts() -> None:
    buffer = Buffer(1, Overflow.BLOCK, block_timeout=0.05)
    buffer.put(b"1")
    started = time.monotonic()
    buffer.put(b"2")
    assert 0.04 < time.monotonic() - started < 1
    assert buffer.dropped == 1
    assert not buffer.put(b"3", wait=False)


def test_spool_overflow_goes_to_disk(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    buffer = Buffer(1, Overflow.SPOOL, spool)
    for record in (b"1", b"2", b"3"):
        buffer.put(record)
    assert (buffer.spooled, buffer.dropped) == (2, 0)
    (path,) = spool.pending()
    assert spool.read(path) == [b"2", b"3"]


def test_spool_policy_needs_a_directory() -> None:
    with pytest.raises(ValueError, match="spool_dir"):
        client(MemoryTransport(), overflow="spool")


@pytest.mark.parametrize("spooled", [True, False])
def test_an_outage_loses_nothing(tmp_path: Path, spooled: bool) -> None:
    transport = MemoryTransport()
    transport.fail = True
    options: dict[str, Any] = {"overflow": "spool", "spool_dir": tmp_path} if spooled else {}
    c = client(transport, queue_size=50, **options)
    ids = [c.emit_sync("alice", "read", outcome="success").event_id for _ in range(120)]
    wait_for(lambda: c.stats.failed_batches >= 2)
    transport.fail = False
    wait_for(lambda: len(transport.records) >= (120 if spooled else 50))
    c.close()
    got = [r["event_id"] for r in sent(transport)]
    if spooled:
        assert sorted(set(got)) == sorted(ids)
        assert c.stats.spool_bytes == 0
    else:  # no spool: the bounded queue keeps 50 and counts the rest
        assert set(got) <= set(ids)
        assert c.stats.dropped == 120 - len(set(got))


def test_close_flushes_and_spools_what_the_broker_did_not_take(tmp_path: Path) -> None:
    transport = MemoryTransport()
    c = client(transport, overflow="spool", spool_dir=tmp_path)
    for _ in range(10):
        c.emit_sync("alice", "read")
    c.close()
    assert len(transport.records) == 10

    down = MemoryTransport()
    down.fail = True
    c = client(down, overflow="spool", spool_dir=tmp_path, close_timeout=0.5)
    ids = [c.emit_sync("bob", "read").event_id for _ in range(5)]
    c.close()
    assert c.stats.spooled == 5 and not down.records
    c.emit_sync("bob", "after close")  # never raises, is kept
    assert c.stats.spooled == 6

    back = MemoryTransport()
    c = client(back, overflow="spool", spool_dir=tmp_path)
    c.start()  # a later run replays the spool it finds
    wait_for(lambda: len(back.records) >= 6)
    c.close()
    assert set(ids) <= {r["event_id"] for r in sent(back)}
    assert not list(tmp_path.glob("spool-*"))


def test_trace_context_from_opentelemetry_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditwatch_sdk import trace

    class Context:
        is_valid = True
        trace_id = 0x0AF7651916CD43DD8448EB211C80319C
        span_id = 0xB7AD6B7169203331

    class Span:
        def get_span_context(self) -> Context:
            return Context()

    class Otel:
        @staticmethod
        def get_current_span() -> Span:
            return Span()

    monkeypatch.setattr(trace, "_otel", Otel)
    c = client(MemoryTransport())
    event = c.build("alice", "read")
    assert (event.trace_id, event.span_id) == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    c.close()
