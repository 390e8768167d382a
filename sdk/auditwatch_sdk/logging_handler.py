"""A ``logging.Handler`` that turns log records marked as audit into audit events.

Mark a record with ``extra={"audit": {...}}``; the dict holds ``emit``'s
arguments (``actor``, ``action``, and optionally ``resource``, ``outcome`` and
any other field). Records without the mark are ignored, so the handler can sit
on the root logger. The log message goes to ``extra.message`` and the level to
``extra.log_level``. A record that does not make a valid event is reported
through ``logging``'s usual ``handleError`` and never raises into the caller.

>>> import logging
>>> from auditwatch_sdk.transport import MemoryTransport
>>> client = AuditClient(MemoryTransport(), service="billing")
>>> logger = logging.getLogger("billing.audit")
>>> logger.addHandler(AuditLogHandler(client))
>>> logger.warning("refund issued", extra={"audit": {"actor": "alice", "action": "refund"}})
>>> client.stats.emitted
1
>>> client.close()
"""

from __future__ import annotations

import logging
from typing import Any

from auditwatch_sdk.client import AuditClient

__all__ = ["AuditLogHandler"]


class AuditLogHandler(logging.Handler):
    def __init__(self, client: AuditClient, level: int = logging.NOTSET, attribute: str = "audit") -> None:
        super().__init__(level)
        self.client = client
        self.attribute = attribute

    def emit(self, record: logging.LogRecord) -> None:
        fields: Any = getattr(record, self.attribute, None)
        if not isinstance(fields, dict):
            return
        try:
            fields = dict(fields)
            actor = fields.pop("actor")
            action = fields.pop("action")
            fields.setdefault("message", record.getMessage())
            fields.setdefault("log_level", record.levelname.lower())
            fields.setdefault("logger", record.name)
            self.client.emit_sync(actor, action, **fields)
        except Exception:
            self.handleError(record)
