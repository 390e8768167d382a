"""Routing test cases: what ``auditwatch routes test --cases FILE`` runs.

Alertmanager's ``amtool config routes test`` checks one label set at a time
and cannot say whether an alert would be inhibited or silenced. A cases file
checks all of that for a whole routing config, in CI::

    cases:
      - name: a critical burst pages secops and posts to Slack
        labels: {alertname: failed_login_burst, severity: critical}
        receivers: [secops-pager, secops-slack]
      - name: high is inhibited while critical fires for the same entity
        labels: {severity: high, entity: actor.id=alice}
        firing:
          - {severity: critical, entity: actor.id=alice}
        inhibited: true
      - name: a silenced entity is not notified
        labels: {severity: high, entity: actor.id=bob}
        silences:
          - matchers: ['entity="actor.id=bob"']
        silenced: true
        notified: []
      - name: weekend low-severity alerts wait for Monday
        labels: {severity: low}
        at: 2024-05-04T10:00:00Z
        time_muted: [default]

Each case gives the alert's ``labels`` and at least one expectation:

* ``receivers``: the receivers the routing tree picks, in tree order;
* ``inhibited`` / ``silenced``: whether the alert is muted, given the other
  ``firing`` alerts (and ``resolved`` ones, which no longer inhibit) and the
  ``silences`` (active at ``at`` unless they give ``starts_at``/``ends_at``);
* ``time_muted``: the receivers whose route is muted at ``at`` by its time
  intervals;
* ``notified``: the receivers that would actually be notified.

``at`` (default: now) is the moment the case is evaluated at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from alerts.router.config import MatcherText, ScalarText
from alerts.router.inhibit import ActiveAlerts, Inhibitor
from alerts.router.silence import Silencer, Silences, new_silence
from alerts.router.spec import RouterSpec

__all__ = ["CaseFile", "CaseResult", "CaseSilence", "RouteCase", "run_case", "run_cases"]


def _labels(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): ("" if v is None else v) for k, v in value.items()}
    return value


Labels = Annotated[dict[str, ScalarText], BeforeValidator(_labels)]


class CaseSilence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    matchers: list[MatcherText] = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_by: str = "routes test"
    comment: str = "routes test case"


def _receiver_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in value.split(",") if part]
    return value


ReceiverList = Annotated[list[str], BeforeValidator(_receiver_list)]


class RouteCase(BaseModel):
    """One case; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    labels: Labels
    at: datetime | None = None
    firing: list[Labels] = Field(default_factory=list)
    resolved: list[Labels] = Field(default_factory=list)
    silences: list[CaseSilence] = Field(default_factory=list)
    receivers: ReceiverList | None = None
    inhibited: bool | None = None
    silenced: bool | None = None
    time_muted: ReceiverList | None = None
    notified: ReceiverList | None = None

    @model_validator(mode="after")
    def _expects_something(self) -> RouteCase:
        expectations = (self.receivers, self.inhibited, self.silenced, self.time_muted, self.notified)
        if all(value is None for value in expectations):
            raise ValueError(
                "a case needs at least one expectation: receivers, inhibited, silenced, "
                "time_muted or notified"
            )
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("'at' needs a time zone, such as 2024-05-04T10:00:00Z")
        return self


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[RouteCase] = Field(min_length=1)


@dataclass
class CaseResult:
    name: str
    receivers: list[str]
    inhibited_by: str | None
    silenced_by: str | None
    time_muted: list[str]
    notified: list[str]
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def run_case(spec: RouterSpec, case: RouteCase, now: datetime | None = None) -> CaseResult:
    """Evaluate one case against the router; the result lists each unmet expectation."""
    at = case.at or now or datetime.now(UTC)
    horizon = at + timedelta(seconds=max(spec.resolve_timeout, 1.0))
    active = ActiveAlerts(spec.inhibit_rules)
    for index, labels in enumerate(case.firing):
        active.add(f"firing[{index}]", labels, horizon)
    for index, labels in enumerate(case.resolved):
        active.add(f"resolved[{index}]", labels, at)  # ended at `at`: no longer firing
    active.add("candidate", case.labels, horizon)
    silences = Silences(
        new_silence(
            s.matchers,
            s.starts_at or at - timedelta(seconds=1),
            s.ends_at or horizon,
            s.created_by,
            s.comment,
            now=at,
            silence_id=f"silences[{index}]",
        )
        for index, s in enumerate(case.silences)
    )
    routes = spec.match(case.labels)
    receivers = [route.opts.receiver for route in routes]
    inhibited_by = Inhibitor(active).mutes(case.labels, at)
    silenced_by = Silencer(silences).mutes(case.labels, at)
    time_muted = [
        route.opts.receiver for route in routes if spec.time_muter(route).mutes(case.labels, at) is not None
    ]
    muted = inhibited_by is not None or silenced_by is not None
    notified = [] if muted else [r for r in receivers if r not in time_muted]
    result = CaseResult(case.name, receivers, inhibited_by, silenced_by, time_muted, notified)
    checks: list[tuple[str, object, object]] = [
        ("receivers", case.receivers, receivers),
        ("inhibited", case.inhibited, inhibited_by is not None),
        ("silenced", case.silenced, silenced_by is not None),
        ("time_muted", case.time_muted, time_muted),
        ("notified", case.notified, notified),
    ]
    for name, expected, actual in checks:
        if expected is not None and expected != actual:
            result.failures.append(f"{name}: expected {_show(expected)}, got {_show(actual)}")
    return result


def run_cases(spec: RouterSpec, cases: CaseFile, now: datetime | None = None) -> list[CaseResult]:
    return [run_case(spec, case, now) for case in cases.cases]


def _show(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(none)"
    return str(value).lower() if isinstance(value, bool) else str(value)
