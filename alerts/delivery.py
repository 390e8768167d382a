"""Deliver one alert to every sink that wants it: retry with backoff, then park.

The :class:`Dispatcher` is the one place where delivery policy lives (sinks
only make single attempts, see :mod:`alerts.sinks.base`):

1. a sink whose ``min_severity`` is above the alert's is skipped;
2. all other sinks are sent to concurrently, so a slow receiver does not
   delay the others;
3. a retryable failure (429, 5xx, network error) is retried after a backoff
   with full jitter (``uniform(0, min(max_delay, base_delay * factor**n))``),
   or after the receiver's ``Retry-After`` on 429 and 503, capped at
   ``max_retry_after``;
4. after the last attempt, or at once on a failure that retrying cannot fix
   (another 4xx, or an exception raised by the sink itself), the alert is
   *parked*: handed, with the reason, to the caller's ``park`` callback, which
   writes it somewhere durable (the pipeline sends it to ``audit.alerts.dlq``,
   a replay writes a file). Nothing is dropped silently.

If the park callback itself fails, the alert would be lost, so :meth:`dispatch`
raises :class:`~alerts.errors.ParkError` once every sink has finished; the caller
must then not commit the offset of the input that produced the alert.

A :class:`ParkedNotification` serialises to JSON (``to_json_bytes``)::

    {"alert": {...the alert's JSON...}, "sink": "slack-secops",
     "reason": "gave up after 5 attempts: HTTP 503 Service Unavailable",
     "retryable": true, "attempts": 5,
     "first_attempt_at": "2024-05-01T10:00:41.12Z", "last_attempt_at": "2024-05-01T10:01:13.8Z"}

``retryable`` tells a replay whether sending again later may succeed (the
receiver was down) or whether the sink's config must be fixed first.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.errors import AlertConfigError, AlertDecodeError, ParkError
from alerts.model import Alert
from alerts.redact import redact_text
from alerts.sinks.base import SendResult, Sink

__all__ = [
    "DeliveryReport",
    "Dispatcher",
    "Outcome",
    "Park",
    "ParkedNotification",
    "RetryPolicy",
    "Sleep",
]

Park = Callable[["ParkedNotification"], Awaitable[None]]
"""Stores an undelivered alert durably; raising means it could not."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one sink (see the module docstring).

    ``rng`` is injectable so that tests can pin the jitter.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise AlertConfigError("max_attempts must be at least 1 (1 means: never retry)")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise AlertConfigError("retry delays must not be negative")
        if self.factor < 1:
            raise AlertConfigError("the backoff factor must be at least 1, or delays would shrink")

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt: full jitter."""
        # Past 64 doublings the cap has long been reached; stop before floats overflow.
        exponent = min(max(failures - 1, 0), 64)
        ceiling = min(self.max_delay, self.base_delay * self.factor**exponent)
        return self.rng.uniform(0.0, ceiling)

    def delay(self, failures: int, result: SendResult) -> float:
        """The receiver's ``Retry-After`` if it gave one (capped), else :meth:`backoff`."""
        if result.retry_after is not None:
            return min(result.retry_after, self.max_retry_after)
        return self.backoff(failures)


class ParkedNotification(BaseModel):
    """An alert that one sink could not deliver, and why; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert: Alert
    sink: str
    reason: str
    retryable: bool
    attempts: int = Field(ge=1)
    first_attempt_at: datetime
    last_attempt_at: datetime

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Self:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise AlertDecodeError(f"not a parked notification: {exc}") from exc


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    PARKED = "parked"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What happened to one alert at one sink, for logs and metrics."""

    sink: str
    outcome: Outcome
    attempts: int
    detail: str

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Sends alerts to sinks under a :class:`RetryPolicy`, parking what cannot be sent.

    ``sleep`` and ``clock`` are injectable so that tests neither wait nor depend
    on the wall clock.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        policy: RetryPolicy,
        park: Park,
        sleep: Sleep = asyncio.sleep,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        names = [sink.name for sink in sinks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise AlertConfigError(
                f"sink names must be unique, and {', '.join(duplicates)} is used more than once; "
                "parked notifications name their sink, so rename one"
            )
        self.sinks = tuple(sinks)
        self.policy = policy
        self._park = park
        self._sleep = sleep
        self._clock = clock

    async def dispatch(self, alert: Alert) -> list[DeliveryReport]:
        """Deliver ``alert``; one report per sink, in the order the sinks were given.

        Returns once every sink has delivered, parked or been skipped. Raises
        :class:`ParkError` if an undeliverable alert could not be parked.
        """
        chosen = [sink for sink in self.sinks if alert.severity >= sink.min_severity]
        outcomes = await asyncio.gather(
            *(self._deliver(sink, alert) for sink in chosen), return_exceptions=True
        )
        by_sink = dict(zip((sink.name for sink in chosen), outcomes, strict=True))
        failures = [error for error in outcomes if isinstance(error, BaseException)]
        if failures:
            # Anything but a ParkError is a bug here, not in a sink: let it surface.
            if not all(isinstance(error, ParkError) for error in failures):
                raise next(e for e in failures if not isinstance(e, ParkError))
            raise ParkError("; ".join(str(error) for error in failures)) from failures[0]
        reports: list[DeliveryReport] = []
        for sink in self.sinks:
            outcome = by_sink.get(sink.name)
            if isinstance(outcome, DeliveryReport):
                reports.append(outcome)
            else:
                detail = f"{alert.severity.label} is below {sink.min_severity.label}"
                reports.append(DeliveryReport(sink.name, Outcome.SKIPPED, 0, detail))
        return reports

    async def _deliver(self, sink: Sink, alert: Alert) -> DeliveryReport:
        first_attempt_at = self._clock()
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(sink, alert)
            if result.ok:
                return DeliveryReport(sink.name, Outcome.DELIVERED, attempts, result.detail)
            if result.retryable and attempts < self.policy.max_attempts:
                await self._sleep(self.policy.delay(attempts, result))
                continue
            if result.retryable:
                reason = f"gave up after {attempts} attempts: {result.detail}"
            else:
                reason = f"not retryable: {result.detail}"
            parked = ParkedNotification(
                alert=alert,
                sink=sink.name,
                reason=reason,
                retryable=result.retryable,
                attempts=attempts,
                first_attempt_at=first_attempt_at,
                last_attempt_at=self._clock(),
            )
            try:
                await self._park(parked)
            except Exception as exc:
                raise ParkError(
                    f"alert {alert.id} for sink {sink.name!r} was neither delivered ({reason}) "
                    f"nor parked ({type(exc).__name__}: {exc}); do not commit its input, "
                    "so that it is dispatched again"
                ) from exc
            return DeliveryReport(sink.name, Outcome.PARKED, attempts, reason)

    @staticmethod
    async def _attempt(sink: Sink, alert: Alert) -> SendResult:
        try:
            return await sink.send(alert)
        except Exception as exc:
            # A bug in one sink must not crash the worker or starve the other sinks.
            # Retrying a bug does not fix it, so it is parked at once.
            message = redact_text(str(exc)) or "no message"
            return SendResult.failed(
                f"sink raised {type(exc).__name__}: {message}", retryable=False
            )
