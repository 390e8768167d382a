"""Start ``tests/browser/memory_api.py`` as a process and talk to it (see that module)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.model import Alert

REPO = Path(__file__).resolve().parents[2]


@dataclass
class MemoryApi:
    url: str
    tokens: dict[str, str]
    checkpoint: dict[str, Any]
    process: subprocess.Popen[str]

    def add(self, alert: Alert) -> None:
        """Put an alert in the server's book (what the alerts topic does in a worker)."""
        assert self.process.stdin is not None
        self.process.stdin.write(alert.model_dump_json() + "\n")
        self.process.stdin.flush()


@contextmanager
def start_memory_api(log: Path, timeout: float = 60.0, anonymous: bool = False) -> Iterator[MemoryApi]:
    """The server process (``anonymous``: api.anonymous on), stopped when the generator ends."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.memory_api", *(["--anonymous"] if anonymous else [])],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert process.stdout is not None
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not first or not first[0].strip():
        process.kill()
        process.wait(10)
        process.stdout.close()
        assert process.stdin is not None
        process.stdin.close()
        raise AssertionError(f"the in-memory API did not start:\n{log.read_text()[-4000:]}")
    hello: dict[str, Any] = json.loads(first[0])
    try:
        yield MemoryApi(hello["url"], hello["tokens"], hello["checkpoint"], process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()


def make_alert(
    n: int,
    *,
    rule_id: str = "failed_login_burst",
    severity: str = "high",
    entity: str = "actor.id=alice",
    title: str | None = None,
    hours_ago: float = 0.0,
    evidence: tuple[dict[str, Any], ...] = (),
) -> Alert:
    """An alert as the alert builder would send it, with a distinct id per ``n``."""
    seen = datetime.now(UTC) - timedelta(hours=hours_ago)
    return Alert(
        id=f"{n:032x}",
        rule_id=rule_id,
        severity=severity,  # a name ("high"); the model parses it
        title=title or f"Burst of failed logins for one actor: {entity}",
        summary=f"5 failed logins for {entity} within 60s",
        entity=entity,
        group={entity.split("=", 1)[0]: entity.split("=", 1)[-1]},
        count=5,
        threshold=">= 5 in 60s",
        first_seen=seen - timedelta(seconds=40),
        last_seen=seen,
        window_start=seen - timedelta(seconds=60),
        window_end=seen,
        event_ids=tuple(f"e{n}-{i}" for i in range(5)),
        evidence=evidence
        or tuple(
            {"event_id": f"e{n}-{i}", "actor": entity, "action": "login", "outcome": "failure"}
            for i in range(2)
        ),
        labels={"alertname": rule_id, "severity": severity},
        tags=("attack.credential-access",),
    )
