"""``auditwatch replay``: the worker's stages in-process over files, with no Kafka.

This is the embedded default: the same ingest, rules, anomaly models (when
``detectors.enabled``) and sinks as the worker, with window and model state in
a dict instead of a Faust table. Replay runs one ``ModelSet`` over every file
in order (the worker runs one per partition), and never checkpoints it. Bad
records are reported with file and line and written to the dead-letter file,
and replay goes on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console

from alerts.delivery import ParkedNotification
from alerts.model import Alert
from detectors.engine import StateStore
from pipeline.archive.writer import ArchiveWriter
from pipeline.deadletter import DeadLetter
from pipeline.ingest import Accepted
from pipeline.progress import progress_bar
from pipeline.readers import InputRecord, read_records, total_size
from pipeline.stages import Stages

__all__ = ["ReplayOutputs", "ReplayStats", "parked_writer", "replay"]

Dispatch = Callable[[Alert], Awaitable[object]]


@dataclass
class ReplayStats:
    records: int = 0
    events: int = 0
    dead_letters: int = 0
    alerts: int = 0
    parked: int = 0
    alerts_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass
class ReplayOutputs:
    """Where replay writes; every stream is optional."""

    alerts: IO[str] | None = None
    dead_letters: IO[str] | None = None
    parked: IO[str] | None = None
    console: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    progress: bool = True
    archive: ArchiveWriter | None = None
    """Archive every accepted event and every alert (``replay --archive DIR``)."""


async def replay(
    sources: list[str],
    stages: Stages,
    dispatch: Dispatch | None,
    outputs: ReplayOutputs,
    state: StateStore | None = None,
    stats: ReplayStats | None = None,
) -> ReplayStats:
    """Run every record of ``sources`` through the stages; raises ``InputError`` on unreadable input."""
    stats = ReplayStats() if stats is None else stats
    window_state: StateStore = {} if state is None else state
    with progress_bar(
        outputs.console, total_size(sources), enabled=outputs.progress, label="replay"
    ) as advance:
        for source in sources:
            for record in read_records(source):
                await _one_record(record, stages, dispatch, outputs, window_state, stats)
                advance(record.size)
    return stats


async def _one_record(
    record: InputRecord,
    stages: Stages,
    dispatch: Dispatch | None,
    outputs: ReplayOutputs,
    state: StateStore,
    stats: ReplayStats,
) -> None:
    stats.records += 1
    outcome = stages.ingest(record.payload, source_name=record.file)
    if not isinstance(outcome, Accepted):
        stats.dead_letters += 1
        outputs.console.print(
            f"[yellow]{record.file}:{record.line}: rejected: {outcome.reason}[/]",
            highlight=False,
            markup=True,
        )
        if outputs.dead_letters is not None:
            letter = DeadLetter.of(
                record.payload, outcome.reason, outcome.field, file=record.file, line=record.line
            )
            outputs.dead_letters.write(letter.model_dump_json() + "\n")
        return
    for event in outcome.events:
        stats.events += 1
        if outputs.archive is not None:
            outputs.archive.append_event(event)
        for alert in stages.detect(event, state):
            stats.alerts += 1
            if outputs.archive is not None:
                outputs.archive.append_alert(alert)
            stats.alerts_by_rule[alert.rule_id] = stats.alerts_by_rule.get(alert.rule_id, 0) + 1
            if outputs.alerts is not None:
                outputs.alerts.write(alert.to_json_bytes().decode() + "\n")
                outputs.alerts.flush()
            if dispatch is not None:
                await dispatch(alert)


def parked_writer(
    outputs: ReplayOutputs, stats: ReplayStats
) -> Callable[[ParkedNotification], Awaitable[None]]:
    """Where replay parks undeliverable notifications: the parked file, else stderr."""

    async def park(notification: ParkedNotification) -> None:
        stats.parked += 1
        line = notification.to_json_bytes().decode()
        if outputs.parked is not None:
            outputs.parked.write(line + "\n")
            outputs.parked.flush()
        else:
            outputs.console.print(
                f"[red]notification parked (no --parked file given): {json.dumps(json.loads(line))}[/]",
                highlight=False,
            )

    return park
