"""Append each notification to a file, one JSON document (the webhook payload) per line."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from alerts.integrations.webhook import group_payload
from alerts.notification import Notification
from alerts.redact import Redactor
from alerts.sinks.base import SendResult

__all__ = ["FileNotifier"]


class FileNotifier:
    def __init__(
        self, name: str, path: Path, *, send_resolved: bool = True, redactor: Redactor | None = None
    ) -> None:
        self.name = name
        self.send_resolved = send_resolved
        self.path = path
        self._redactor = redactor or Redactor()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"FileNotifier(name={self.name!r}, path={str(self.path)!r})"

    async def notify(self, notification: Notification) -> SendResult:
        line = json.dumps(self._redactor.redact(group_payload(notification)), ensure_ascii=False) + "\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, line)
            except OSError as exc:
                return SendResult.failed(f"cannot write {self.path}: {exc.strerror or exc}", retryable=True)
        return SendResult.delivered(f"appended to {self.path}")

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
