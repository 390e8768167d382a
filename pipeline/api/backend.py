"""What the API serves, as one object of plain parts: the seam between the app and the worker.

``create_api`` reads and changes only an :class:`ApiBackend`. The worker
builds one over its Kafka-backed stores (``pipeline.api.hosting``); tests and
the dashboard's browser tests build one in memory (``ApiBackend()``), where
writes only change the in-memory stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alerts.router.silence import Silence, Silences
from detectors.rules import RuleSet
from pipeline.api.alertbook import AlertBook, AlertState
from pipeline.api.archive_view import ArchiveView
from pipeline.api.samples import total
from pipeline.api.views import RateMeter

__all__ = ["AccessReview", "ApiBackend", "WriteSilences", "WriteState"]

WriteState = Callable[[AlertState], Awaitable[None]]
WriteSilences = Callable[[Iterable[Silence]], Awaitable[None]]
AccessReview = Callable[[str], Awaitable[Any]]
"""``since`` (``90d``) -> the access review as JSON-able data; ``ValueError`` for a bad ``since``."""


async def _keep_in_memory(_: Any) -> None:
    """The in-memory backend stores nothing durably: the stores themselves are the record."""


@dataclass
class ApiBackend:
    """The stores and views behind the API; every part has an in-memory default."""

    book: AlertBook = field(default_factory=AlertBook)
    write_state: WriteState = _keep_in_memory
    """Store a status change durably (the worker: the alert status topic) before it is applied."""
    silences: Silences = field(default_factory=Silences)
    write_silences: WriteSilences = _keep_in_memory
    ruleset: Callable[[], RuleSet] = RuleSet
    """The rules in force now (the worker's hot reload swaps them)."""
    archive: ArchiveView | None = None
    access_review: AccessReview | None = None
    rate: RateMeter = field(default_factory=lambda: RateMeter(lambda: total("auditwatch_records_in_total")))
    events_topic: str | None = None
    """The topic the detect stage reads: whose partitions the "last event" ages are of."""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
