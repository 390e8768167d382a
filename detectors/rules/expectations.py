"""Backtest expectations: how many alerts each rule may raise over a replayed log.

```yaml
# expect.yml, for `auditwatch replay --expect expect.yml logs/`
expect:
  failed_login_burst: {exactly: 1}
  password_spraying: {at_least: 1}
  mass_download: {at_most: 0}
allow_other_alerts: false       # an alert of a rule not listed is a failure
```

A rule author checks a new rule against benign logs (``at_most: 0``) and
against logs of the attack (``at_least: 1``) before shipping it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detectors.yamlsource import SourceProblem, load_yaml_documents, problems_from_validation

__all__ = ["Expectation", "Expectations", "check_expectations", "load_expectations"]


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    exactly: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Expectation:
        if self.exactly is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give exactly, or at_least and/or at_most, not both")
        if self.exactly is None and self.at_least is None and self.at_most is None:
            raise ValueError("give exactly, at_least or at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least is more than at_most")
        return self

    def describe(self) -> str:
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        parts = []
        if self.at_least is not None:
            parts.append(f"at least {self.at_least}")
        if self.at_most is not None:
            parts.append(f"at most {self.at_most}")
        return " and ".join(parts)

    def holds(self, count: int) -> bool:
        if self.exactly is not None:
            return count == self.exactly
        return (self.at_least is None or count >= self.at_least) and (
            self.at_most is None or count <= self.at_most
        )


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expect: dict[str, Expectation] = Field(default_factory=dict)
    allow_other_alerts: bool = False


def load_expectations(path: Path) -> Expectations | list[SourceProblem]:
    """The expectations in ``path``, or its problems with their lines."""
    loaded = load_yaml_documents(path)
    if isinstance(loaded, SourceProblem):
        return [loaded]
    if len(loaded) != 1 or not isinstance(loaded[0].data, dict):
        return [SourceProblem(str(path), 0, "an expectations file is one YAML map with an 'expect' key")]
    try:
        return Expectations.model_validate(loaded[0].data)
    except ValidationError as exc:
        return problems_from_validation(loaded[0], exc)


def check_expectations(expectations: Expectations, counts: Mapping[str, int]) -> list[str]:
    """What does not hold, one line each; empty when the replay met every expectation."""
    failures = []
    for rule, expectation in sorted(expectations.expect.items()):
        count = counts.get(rule, 0)
        if not expectation.holds(count):
            failures.append(
                f"{rule}: {count} alert{'s' if count != 1 else ''}, expected {expectation.describe()}"
            )
    if not expectations.allow_other_alerts:
        for rule, count in sorted(counts.items()):
            if rule not in expectations.expect and count:
                failures.append(f"{rule}: {count} unexpected alert{'s' if count != 1 else ''}")
    return failures
