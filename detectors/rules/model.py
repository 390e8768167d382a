"""The rule documents, as written in YAML: Sigma rules and Sigma correlations.

Field names and semantics follow the Sigma specification, so a rule written
here reads like any Sigma rule. Our streaming settings live under the one key
``x-auditwatch``, which other Sigma tools ignore.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from detectors.events import Severity
from detectors.rules.timespan import parse_timespan

__all__ = [
    "Correlation",
    "CorrelationDocument",
    "DetectionDocument",
    "Logsource",
    "StreamingOptions",
    "sigma_level_to_severity",
]

_LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def sigma_level_to_severity(level: str) -> Severity:
    return _LEVELS[level]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StreamingOptions(_Doc):
    """``x-auditwatch``: how a rule runs over a stream (ignored by other Sigma tools)."""

    allowed_lateness: int = Field(
        default=0,
        description="seconds an event may arrive behind the newest event of its group and still count",
    )
    emit: bool | None = Field(
        default=None,
        description="false for building-block rules that only feed correlations",
    )
    after_fire: Literal["reset"] = Field(
        default="reset",
        description="reset: the events that made an alert do not count towards the next one",
    )

    @field_validator("allowed_lateness", mode="before")
    @classmethod
    def _lateness(cls, value: Any) -> int:
        if value in (0, "0", "0s"):
            return 0
        return parse_timespan(value)


class Logsource(_Doc):
    category: str | None = None
    product: str | None = None
    service: str | None = None
    definition: str | None = None


class _Common(_Doc):
    title: str = Field(min_length=1, max_length=256)
    id: str | None = None
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    status: Literal["stable", "test", "experimental", "deprecated", "unsupported"] | None = None
    description: str | None = None
    references: list[str] = Field(default_factory=list)
    author: str | None = None
    date: str | None = None
    modified: str | None = None
    tags: list[str] = Field(default_factory=list)
    falsepositives: list[str] = Field(default_factory=list)
    level: Literal["informational", "low", "medium", "high", "critical"] = "medium"
    fields: list[str] = Field(default_factory=list)
    license: str | None = None
    related: list[dict[str, Any]] = Field(default_factory=list)
    scope: list[str] = Field(default_factory=list)
    x_auditwatch: StreamingOptions = Field(default_factory=StreamingOptions, alias="x-auditwatch")

    @field_validator("date", "modified", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @property
    def key(self) -> str:
        """How other rules refer to this one: its name, else its id, else its title."""
        return self.name or self.id or self.title


class DetectionDocument(_Common):
    """A Sigma detection rule: a logsource and a detection."""

    logsource: Logsource
    detection: dict[str, Any]

    @field_validator("detection")
    @classmethod
    def _has_condition(cls, detection: dict[str, Any]) -> dict[str, Any]:
        if "condition" not in detection:
            raise ValueError("detection needs a 'condition', e.g. 'condition: selection'")
        return detection


class Correlation(_Doc):
    type: Literal["event_count"]
    rules: list[str] = Field(min_length=1)
    group_by: list[str] = Field(default_factory=list, alias="group-by")
    timespan: int
    condition: dict[Literal["gt", "gte"], int]
    generate: bool = False

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value in ("value_count", "temporal", "temporal_ordered"):
            raise ValueError(f"correlation type {value!r} is not supported yet; use event_count")
        return value

    @field_validator("timespan", mode="before")
    @classmethod
    def _timespan(cls, value: Any) -> int:
        return parse_timespan(value)

    @field_validator("condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unsupported = sorted(set(value) - {"gt", "gte"})
            if unsupported:
                raise ValueError(
                    f"condition operator(s) {', '.join(unsupported)} not supported yet; "
                    "use gte or gt (a threshold that is crossed)"
                )
            if len(value) != 1:
                raise ValueError("give exactly one of gte or gt")
        return value

    @property
    def threshold(self) -> int:
        """The number of events that fires the correlation."""
        if "gte" in self.condition:
            return max(1, self.condition["gte"])
        return max(1, self.condition["gt"] + 1)


class CorrelationDocument(_Common):
    """A Sigma correlation over one or more detection rules."""

    correlation: Correlation
