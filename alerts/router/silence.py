"""Silences: mute alerts matching some matchers for a while, with who and why.

A silence is *pending* before ``starts_at``, *active* until ``ends_at`` and
*expired* after. While active it mutes every alert all its matchers match. At
least one matcher must not match the empty string, so that no silence can mute
everything by accident (Alertmanager's rule). Expiring a silence ends it now
(a pending one both starts and ends now); it is kept, so ``silence list
--expired`` shows what was silenced and by whom.

Silences are plain data here. The pipeline stores them in a compacted Kafka
topic keyed by id, and every worker replays that topic into a
:class:`Silences` store.

>>> from datetime import datetime, UTC, timedelta
>>> now = datetime(2024, 5, 1, 10, tzinfo=UTC)
>>> s = new_silence(['entity="actor.id=alice"'], now, now + timedelta(hours=1), "bob", "pentest", now=now)
>>> s.state(now), Silencer(Silences([s])).mutes({"entity": "actor.id=alice"}, now) == f"silenced by {s.id}"
('active', True)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.errors import AlertDecodeError
from alerts.router.matchers import Matcher, matchers_match, parse_matchers

__all__ = ["Silence", "SilenceState", "Silencer", "Silences", "new_silence"]

SilenceState = Literal["pending", "active", "expired"]


class Silence(BaseModel):
    """One silence, as stored and as the HTTP API and CLI show it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=100)
    matchers: list[str] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str = Field(min_length=1, max_length=200)
    comment: str = Field(min_length=1, max_length=2000)
    updated_at: datetime

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, texts: list[str]) -> list[str]:
        parsed = [matcher for text in texts for matcher in parse_matchers(text)]
        if not parsed:
            raise ValueError('give at least one matcher, such as alertname="failed_login_burst"')
        if all(matcher.matches({}) for matcher in parsed):
            raise ValueError(
                "at least one matcher must not match the empty string, or the silence would mute every alert"
            )
        return [str(matcher) for matcher in parsed]

    @model_validator(mode="after")
    def _times(self) -> Self:
        for moment in (self.starts_at, self.ends_at, self.updated_at):
            if moment.tzinfo is None:
                raise ValueError("times must carry a time zone (for example 2024-05-01T10:00:00Z)")
        if self.ends_at < self.starts_at:
            raise ValueError("ends_at is before starts_at")
        return self

    def parsed_matchers(self) -> list[Matcher]:
        return [matcher for text in self.matchers for matcher in parse_matchers(text)]

    def state(self, now: datetime) -> SilenceState:
        if now < self.starts_at:
            return "pending"
        if now < self.ends_at:
            return "active"
        return "expired"

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.state(now) == "active" and matchers_match(self.parsed_matchers(), labels)

    def expired(self, now: datetime) -> Silence:
        """This silence ended at ``now`` (unchanged if it already has)."""
        match self.state(now):
            case "expired":
                return self
            case "pending":
                return self.model_copy(update={"starts_at": now, "ends_at": now, "updated_at": now})
            case "active":
                return self.model_copy(update={"ends_at": now, "updated_at": now})

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Silence:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise AlertDecodeError(f"not a silence: {exc}") from exc


def new_silence(
    matchers: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
    *,
    now: datetime | None = None,
    silence_id: str | None = None,
) -> Silence:
    """A new silence; raises pydantic's ``ValidationError`` saying what is wrong."""
    stamp = now or datetime.now(UTC)
    return Silence(
        id=silence_id or str(uuid.uuid4()),
        matchers=list(matchers),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
        comment=comment,
        updated_at=stamp,
    )


class Silences:
    """Every known silence by id; the latest version of each wins."""

    def __init__(self, silences: Iterable[Silence] = ()) -> None:
        self._by_id: dict[str, Silence] = {}
        self._matchers: dict[str, list[Matcher]] = {}
        for silence in silences:
            self.put(silence)

    def put(self, silence: Silence) -> None:
        known = self._by_id.get(silence.id)
        if known is not None and known.updated_at > silence.updated_at:
            return
        self._by_id[silence.id] = silence
        self._matchers[silence.id] = silence.parsed_matchers()

    def delete(self, silence_id: str) -> None:
        self._by_id.pop(silence_id, None)
        self._matchers.pop(silence_id, None)

    def get(self, silence_id: str) -> Silence | None:
        return self._by_id.get(silence_id)

    def all(self) -> list[Silence]:
        return sorted(self._by_id.values(), key=lambda s: (s.starts_at, s.id))

    def in_state(self, now: datetime, *states: SilenceState) -> list[Silence]:
        return [s for s in self.all() if s.state(now) in states]

    def matching(self, labels: Mapping[str, str], now: datetime) -> list[Silence]:
        """The active silences that mute ``labels``."""
        return [
            silence
            for silence in self._by_id.values()
            if silence.state(now) == "active" and matchers_match(self._matchers[silence.id], labels)
        ]

    def __len__(self) -> int:
        return len(self._by_id)


class Silencer:
    """The :class:`~alerts.router.mute.Muter` for a :class:`Silences` store."""

    def __init__(self, silences: Silences) -> None:
        self.silences = silences

    def mutes(self, labels: Mapping[str, str], now: datetime) -> str | None:
        found = self.silences.matching(labels, now)
        if not found:
            return None
        return "silenced by " + ", ".join(sorted(silence.id for silence in found))
