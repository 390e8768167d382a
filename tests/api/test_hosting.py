"""The worker-side parts of the API, without Kafka: the quiet uvicorn server, the topic
tails' record handling, and the access review over the archive directory."""

from __future__ import annotations

import asyncio
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn

from pipeline.api import ApiBackend, TokenStore, create_api
from pipeline.api.alertbook import AlertBook, AlertState
from pipeline.api.hosting import _access_review, _alert_tail, _QuietServer, _status_tail
from pipeline.config import AuditwatchConfig
from tests.api.conftest import sample_alert


async def test_the_server_answers_and_leaves_the_worker_s_signal_handlers_alone() -> None:
    async def nothing(event: object) -> None:
        return None

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    previous = signal.signal(signal.SIGTERM, mine)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        app = create_api(ApiBackend(), TokenStore(), nothing)
        server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.02)
        assert signal.getsignal(signal.SIGTERM) is mine
        async with httpx.AsyncClient() as client:
            port = sock.getsockname()[1]
            assert (await client.get(f"http://127.0.0.1:{port}/api/v1/livez")).json() == {"status": "ok"}
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()


def test_the_tails_feed_the_book_and_skip_foreign_records(caplog: pytest.LogCaptureFixture) -> None:
    book = AlertBook()
    alerts, statuses = _alert_tail("x", "audit.alerts", book), _status_tail("x", "audit.alerts.status", book)
    alert = sample_alert(3)
    stamp = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    alerts.apply(SimpleNamespace(value=alert.to_json_bytes(), timestamp=stamp.timestamp() * 1000))
    alerts.apply(SimpleNamespace(value=b"not an alert", timestamp=0))
    state = AlertState(alert_id=alert.id, status="acknowledged")
    statuses.apply(SimpleNamespace(value=state.to_json_bytes(), key=alert.id.encode()))
    statuses.apply(SimpleNamespace(value=None, key=b"x"))
    statuses.apply(SimpleNamespace(value=b'{"alert_id": ""}', key=b"x"))
    entry = book.get(alert.id)
    assert entry is not None and entry.received == stamp and entry.status == "acknowledged"
    assert len(book) == 1
    assert "not an alert status" in caplog.text


async def test_the_access_review_reads_the_archive_directory_when_there_is_one(tmp_path: Path) -> None:
    assert _access_review(AuditwatchConfig()) is None
    config = AuditwatchConfig.model_validate({"archive": {"enabled": True, "dir": str(tmp_path)}})
    review = _access_review(config)
    assert review is not None
    result = await review("90d")
    assert result["format"] == "auditwatch.access-review/1" and result["principals"] == []
    with pytest.raises(ValueError, match="90d"):
        await review("ninety days")
