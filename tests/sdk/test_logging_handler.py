"""AuditLogHandler: records marked as audit become events; others are ignored; bad ones never raise."""

from __future__ import annotations

import json
import logging

import pytest

from auditwatch_sdk import AuditClient, AuditLogHandler, MemoryTransport


def test_marked_records_become_events_and_others_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = MemoryTransport()
    client = AuditClient(transport, service="billing")
    logger = logging.getLogger("tests.sdk.audit")
    handler = AuditLogHandler(client)
    logger.addHandler(handler)
    monkeypatch.setattr(logging, "raiseExceptions", False)
    try:
        logger.warning(
            "refund %s",
            "in_1",
            extra={"audit": {"actor": "alice", "action": "refund", "outcome": "success", "password": "x"}},
        )
        logger.warning("just a log line")
        logger.warning("bad", extra={"audit": {"action": "no actor"}})
    finally:
        logger.removeHandler(handler)
    client.close()
    (event,) = [json.loads(r) for r in transport.records]
    assert (event["actor"]["id"], event["action"], event["outcome"]) == ("alice", "refund", "success")
    assert event["extra"]["message"] == "refund in_1"
    assert event["extra"]["log_level"] == "warning"
    assert event["extra"]["password"] == "[REDACTED]"
