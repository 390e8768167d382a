"""Deliver one notification through one integration: limits, retries, then park.

:class:`IntegrationSender` holds the delivery policy of one integration:

1. at most ``concurrency`` attempts in flight at once, and, with a rate
   limit, at most ``per_second`` attempts a second on average (a token
   bucket of ``burst`` tokens), so one busy group cannot flood a Slack
   channel and one slow receiver only slows itself;
2. a failure worth retrying (429, 5xx, network) is retried after a backoff
   with full jitter, or after the receiver's ``Retry-After`` (capped), which
   Alertmanager ignores;
3. after the last attempt, or at once on a failure retrying cannot fix, the
   notification is *parked*: handed, as a :class:`ParkedGroupNotification`
   with the reason, to the caller's ``park`` callback (the pipeline writes it
   to ``audit.alerts.dlq``; ``auditwatch alerts redeliver`` sends it again).

An :class:`DeliveryObserver` sees every attempt, retry and outcome, for
metrics. ``sleep`` and the clocks are injectable so tests neither wait nor
depend on the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.delivery import RetryPolicy, Sleep
from alerts.errors import AlertDecodeError, ParkError
from alerts.integrations.base import Notifier
from alerts.notification import Notification
from alerts.redact import redact_text
from alerts.router.state import StoredAlert
from alerts.sinks.base import SendResult

__all__ = [
    "DeliveryObserver",
    "GroupPark",
    "IntegrationSender",
    "ParkedGroupNotification",
    "SendOutcome",
    "TokenBucket",
]


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, in bursts of up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> float:
        """Take a token, waiting for one if needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                pause = (1 - self._tokens) / self.rate
                waited += pause
                await self._sleep(pause)


class ParkedGroupNotification(BaseModel):
    """A notification one integration could not deliver, with everything needed to send it again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["notification"] = "notification"
    id: str
    group_id: str
    group_key: str
    receiver: str
    integration: str
    sequence: int
    group_labels: dict[str, str]
    alerts: list[StoredAlert]
    flushed_at: datetime
    external_url: str = ""
    reason: str
    retryable: bool
    attempts: int = Field(ge=0)
    first_attempt_at: datetime
    last_attempt_at: datetime

    @classmethod
    def of(cls, notification: Notification, outcome: SendOutcome) -> ParkedGroupNotification:
        return cls(
            id=notification.id,
            group_id=notification.group_id,
            group_key=notification.group_key,
            receiver=notification.receiver,
            integration=notification.integration,
            sequence=notification.sequence,
            group_labels=dict(notification.group_labels),
            alerts=[StoredAlert.of(state) for state in notification.alerts],
            flushed_at=notification.now,
            external_url=notification.external_url,
            reason=outcome.detail,
            retryable=outcome.retryable,
            attempts=outcome.attempts,
            first_attempt_at=outcome.first_attempt_at,
            last_attempt_at=outcome.last_attempt_at,
        )

    def notification(self) -> Notification:
        """The notification as it was, same id: a receiver that got it before can drop it."""
        return Notification(
            id=self.id,
            group_id=self.group_id,
            group_key=self.group_key,
            receiver=self.receiver,
            integration=self.integration,
            group_labels=self.group_labels,
            alerts=tuple(stored.state() for stored in self.alerts),
            now=self.flushed_at,
            sequence=self.sequence,
            external_url=self.external_url,
        )

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Self:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise AlertDecodeError(f"not a parked notification: {exc}") from exc


GroupPark = Callable[[ParkedGroupNotification], Awaitable[None]]


@dataclass(frozen=True)
class SendOutcome:
    delivered: bool
    attempts: int
    detail: str
    retryable: bool
    first_attempt_at: datetime
    last_attempt_at: datetime
    parked: bool = False


class DeliveryObserver(Protocol):
    def attempted(self, integration: str, result: SendResult, seconds: float) -> None: ...

    def retrying(self, integration: str, delay: float) -> None: ...

    def finished(self, integration: str, outcome: SendOutcome) -> None: ...


class _NoObserver:
    def attempted(self, integration: str, result: SendResult, seconds: float) -> None:
        pass

    def retrying(self, integration: str, delay: float) -> None:
        pass

    def finished(self, integration: str, outcome: SendOutcome) -> None:
        pass


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IntegrationSender:
    """One integration's delivery policy; see the module docstring."""

    def __init__(
        self,
        notifier: Notifier,
        policy: RetryPolicy,
        park: GroupPark,
        *,
        concurrency: int = 4,
        limiter: TokenBucket | None = None,
        observer: DeliveryObserver | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = _utc_now,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.notifier = notifier
        self.policy = policy
        self._park = park
        self._slots = asyncio.Semaphore(concurrency)
        self._limiter = limiter
        self._observer = observer or _NoObserver()
        self._sleep = sleep
        self._clock = clock
        self._timer = timer

    @property
    def name(self) -> str:
        return self.notifier.name

    async def send(self, notification: Notification) -> SendOutcome:
        """Deliver or park; raises :class:`ParkError` only if parking failed too."""
        first = self._clock()
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(notification)
            if result.ok:
                outcome = SendOutcome(True, attempts, result.detail, False, first, self._clock())
                self._observer.finished(self.name, outcome)
                return outcome
            if result.retryable and attempts < self.policy.max_attempts:
                delay = self.policy.delay(attempts, result)
                self._observer.retrying(self.name, delay)
                await self._sleep(delay)
                continue
            reason = (
                f"gave up after {attempts} attempts: {result.detail}"
                if result.retryable
                else f"not retryable: {result.detail}"
            )
            outcome = SendOutcome(
                False, attempts, reason, result.retryable, first, self._clock(), parked=True
            )
            parked = ParkedGroupNotification.of(notification, outcome)
            try:
                await self._park(parked)
            except Exception as exc:
                raise ParkError(
                    f"notification {notification.id} for {self.name!r} was neither delivered ({reason}) "
                    f"nor parked ({type(exc).__name__}: {exc})"
                ) from exc
            self._observer.finished(self.name, outcome)
            return outcome

    async def _attempt(self, notification: Notification) -> SendResult:
        async with self._slots:
            if self._limiter is not None:
                await self._limiter.acquire()
            started = self._timer()
            try:
                result = await self.notifier.notify(notification)
            except Exception as exc:
                # A bug in one integration must not crash the worker; retrying a bug does not fix it.
                message = redact_text(str(exc)) or "no message"
                result = SendResult.failed(
                    f"integration raised {type(exc).__name__}: {message}", retryable=False
                )
            self._observer.attempted(self.name, result, self._timer() - started)
            return result
