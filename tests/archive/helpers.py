"""Builders shared by the archive tests: events, alerts, a settable clock, a writer on a directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.model import Alert
from detectors.events import AuditEvent
from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.storage import LocalStorage
from pipeline.archive.writer import ArchiveWriter, WriterSettings

T0 = datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)
ORIGIN = "auditwatch/test"


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_event(i: int, **changes: Any) -> AuditEvent:
    data: dict[str, Any] = {
        "event_id": f"e-{i}",
        "time": T0 + timedelta(seconds=i),
        "actor": {"id": f"user-{i % 3}", "type": "human"},
        "action": "login",
        "category": "authentication",
        "outcome": "failure" if i % 2 else "success",
        "source": {"ip": "203.0.113.7"},
        "origin": {"system": "acme.sso"},
        "raw": {"id": f"e-{i}", "n": i, "ok": bool(i % 2)},
    }
    data.update(changes)
    return AuditEvent.model_validate(data)


def make_alert(i: int) -> Alert:
    return Alert(
        id=f"{i:032x}",
        rule_id="failed_login_burst",
        severity="high",
        title="Burst of failed logins",
        summary="5 failed login events by actor.id=alice",
        entity="actor.id=alice",
        group={"actor.id": "alice"},
        count=5,
        threshold=">= 5 in 1m",
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=40 + i),
        window_start=T0,
        window_end=T0 + timedelta(minutes=1),
        event_ids=("e-1", "e-3"),
        labels={"alertname": "failed_login_burst", "severity": "high"},
    )


@dataclass
class Archive:
    """A directory with its signer, keyring and clock, and a way to open writers on it."""

    root: Path
    signer: Signer = field(default_factory=Signer.generate)
    clock: Clock = field(default_factory=Clock)
    settings: WriterSettings = field(
        default_factory=lambda: WriterSettings(
            origin=ORIGIN, checkpoint_every=10, checkpoint_interval=60, segment_max_bytes=4096
        )
    )

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(self.root)

    @property
    def keyring(self) -> Keyring:
        return Keyring([self.signer.public])

    def writer(self, signer: Signer | None = None) -> ArchiveWriter:
        return ArchiveWriter.open(self.storage, signer or self.signer, self.settings, self.clock)

    def fill(self, events: int, alerts: int = 0, close: bool = True) -> ArchiveWriter:
        writer = self.writer()
        for i in range(events):
            self.clock.advance(1)
            writer.append_event(make_event(i))
        for i in range(alerts):
            writer.append_alert(make_alert(i))
        writer.commit()
        if close:
            writer.close()
        return writer

    def segments(self) -> list[Path]:
        return sorted((self.root / "segments").glob("seg-*.log"))

    def checkpoints(self) -> list[Path]:
        return sorted((self.root / "checkpoints").glob("cp-*.json"))
