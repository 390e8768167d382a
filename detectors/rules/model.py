"""What a rule file may say beyond Sigma, as pydantic models with ``extra="forbid"``.

Sigma itself (the rule, its detection and its correlation) is parsed by
pySigma. Our streaming settings live under the one key ``x-auditwatch``, which
other Sigma tools ignore; tests live there too. Two more rule kinds
(``new_terms`` and ``sequence``) are written as correlations of a type pySigma
does not know, so they read like Sigma but only auditwatch runs them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detectors.events import Severity
from detectors.rules.timespan import parse_timespan

__all__ = [
    "SIGMA_LEVELS",
    "ExceptionSpec",
    "ExpectedAlert",
    "NewTermsSpec",
    "OutputTemplate",
    "OverrideDocument",
    "RuleTest",
    "SequenceSpec",
    "SequenceStep",
    "StreamingOptions",
    "Suppression",
    "TimelineEntry",
    "sigma_level_to_severity",
]

SIGMA_LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def sigma_level_to_severity(level: str | None) -> Severity:
    """Sigma's ``level`` as our severity; a rule without a level is medium."""
    return SIGMA_LEVELS.get((level or "medium").lower(), Severity.MEDIUM)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _seconds(value: Any) -> int:
    if value in (0, "0", "0s"):
        return 0
    return parse_timespan(value)


class Suppression(_Doc):
    """At most one alert per group key per period."""

    for_: int = Field(alias="for", description="period, e.g. 1h")
    by: list[str] | None = Field(default=None, description="fields of the key; default: the alert's group")

    @field_validator("for_", mode="before")
    @classmethod
    def _period(cls, value: Any) -> int:
        return parse_timespan(value)


class OutputTemplate(_Doc):
    """Alert title and summary with ``{field}`` placeholders (group fields, event fields, count...)."""

    title: str | None = Field(default=None, max_length=256)
    summary: str | None = Field(default=None, max_length=2000)


class ExceptionSpec(_Doc):
    """A Falco-style exception: events whose fields equal one of the value tuples are left out."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    fields: list[str] = Field(min_length=1)
    comps: list[Literal["=", "!=", "in", "startswith", "endswith", "contains"]] | None = None
    values: list[list[Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> ExceptionSpec:
        if self.comps is not None and len(self.comps) != len(self.fields):
            raise ValueError(f"comps has {len(self.comps)} entries but fields has {len(self.fields)}")
        for row in self.values:
            if len(row) != len(self.fields):
                raise ValueError(
                    f"each value is a list of {len(self.fields)} (one per field: {', '.join(self.fields)}); "
                    f"got {row!r}"
                )
        return self


class TimelineEntry(_Doc):
    """Events of a timeline test: at an offset, optionally repeated every period."""

    at: int = 0
    event: dict[str, Any] | None = None
    record: Any = None
    repeat: int = Field(default=1, ge=1, le=10_000)
    every: int = 0
    flagged_by: str | None = None
    """A detector (``actor_behaviour``) that flags this event: its finding feeds the
    correlations that name the detector, as ``RuleEngine.observe`` does in the worker."""

    @field_validator("at", "every", mode="before")
    @classmethod
    def _offsets(cls, value: Any) -> int:
        return _seconds(value)

    @model_validator(mode="after")
    def _one_source(self) -> TimelineEntry:
        if (self.event is None) == (self.record is None):
            raise ValueError("give exactly one of 'event' (a canonical event) or 'record' (a source record)")
        return self


class ExpectedAlert(_Doc):
    """An alert a timeline test expects; unset parts are not checked."""

    rule: str | None = None
    at: int | None = None
    count: int | None = Field(default=None, ge=1)
    group: dict[str, str] | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> int | None:
        return None if value is None else _seconds(value)


class RuleTest(_Doc):
    """A single-event test (``event``/``record`` + ``expect: match|no_match``) or a timeline test."""

    name: str = Field(min_length=1)
    event: dict[str, Any] | None = None
    record: Any = None
    timeline: list[TimelineEntry] | None = None
    until: int | None = None
    expect: Literal["match", "no_match"] | list[ExpectedAlert]

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> int | None:
        return None if value is None else _seconds(value)

    @model_validator(mode="after")
    def _kind(self) -> RuleTest:
        if self.timeline is not None:
            if self.event is not None or self.record is not None:
                raise ValueError("a timeline test lists its events under 'timeline' only")
            if isinstance(self.expect, str):
                raise ValueError("a timeline test expects a list of alerts ([] for none)")
        else:
            if (self.event is None) == (self.record is None):
                raise ValueError("give 'event' or 'record' (single-event test) or 'timeline'")
            if not isinstance(self.expect, str):
                raise ValueError("a single-event test expects 'match' or 'no_match'")
        return self

    @property
    def is_timeline(self) -> bool:
        return self.timeline is not None


class StreamingOptions(_Doc):
    """``x-auditwatch``: how a rule runs over a stream (ignored by other Sigma tools)."""

    time_field: str = Field(default="time", description="event-time field the windows use")
    allowed_lateness: int = Field(default=0, description="seconds an event may be behind the newest one")
    window: Literal["sliding", "tumbling"] = "sliding"
    after_fire: Literal["reset", "keep"] = Field(
        default="reset",
        description="reset: the events that made an alert do not count towards the next one",
    )
    suppress: Suppression | None = None
    output: OutputTemplate | None = None
    exceptions: list[ExceptionSpec] = Field(default_factory=list)
    emit: bool | None = Field(
        default=None, description="false for building blocks that only feed correlations"
    )
    severity: Severity | None = Field(default=None, description="overrides the severity that level gives")
    labels: dict[str, str] = Field(default_factory=dict)
    tests: list[RuleTest] = Field(default_factory=list)

    @field_validator("allowed_lateness", mode="before")
    @classmethod
    def _lateness(cls, value: Any) -> int:
        return _seconds(value)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return None if value is None else Severity.parse(value)


class _ExtensionBase(_Doc):
    group_by: list[str] = Field(default_factory=list, alias="group-by")
    timespan: int
    aliases: dict[str, dict[str, str]] = Field(default_factory=dict)
    generate: bool = False

    @field_validator("timespan", mode="before")
    @classmethod
    def _span(cls, value: Any) -> int:
        return parse_timespan(value)


class NewTermsSpec(_ExtensionBase):
    """First-seen values: alert when a group shows a value of ``fields`` not seen within ``timespan``."""

    type: Literal["new_terms"]
    rules: list[str] = Field(min_length=1)
    fields: list[str] = Field(min_length=1, max_length=4)
    max_terms: int = Field(default=1000, ge=1, le=10_000, alias="max-terms")
    learn_new_groups: bool = Field(default=True, alias="learn-new-groups")
    learning_period: int = Field(default=0, alias="learning-period")

    @field_validator("learning_period", mode="before")
    @classmethod
    def _learning(cls, value: Any) -> int:
        return _seconds(value)


class SequenceStep(_Doc):
    rule: str
    count: int = Field(default=1, ge=1, le=1000)
    absent: bool = False


class SequenceSpec(_ExtensionBase):
    """Ordered steps within ``timespan``; ``until`` cancels; an ``absent`` last step: 'not followed by'."""

    type: Literal["sequence"]
    steps: list[SequenceStep] = Field(min_length=2, max_length=20)
    until: list[str] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _absent_last(cls, steps: list[SequenceStep]) -> list[SequenceStep]:
        if steps[0].absent:
            raise ValueError(
                "the first step cannot be absent: a sequence starts with something that happened"
            )
        if any(step.absent for step in steps[:-1]):
            raise ValueError("only the last step can be absent ('A not followed by B within the timespan')")
        if steps[-1].absent and steps[-1].count != 1:
            raise ValueError("an absent step has no count")
        return steps

    @property
    def rules(self) -> list[str]:
        return [step.rule for step in self.steps]


class OverrideDocument(_Doc):
    """A local file's additions to a shipped rule: ``override: <rule>`` plus exceptions to append."""

    override: str
    exceptions: list[dict[str, Any]] = Field(min_length=1)
