"""The router's configuration (``config/router.yaml``), in Alertmanager's language.

::

    global:
      resolve_timeout: 5m          # an alert not received again for this long is resolved
    route:                         # Alertmanager's routing tree, as is
      receiver: default
      group_by: [alertname, tenant]
      routes:
        - matchers: [severity=~"high|critical"]
          receiver: secops-pager
          continue: true
    inhibit_rules:                 # as is
      - source_matchers: [severity="critical"]
        target_matchers: [severity="high"]
        equal: [entity]
    time_intervals:                # as is (mute_time_intervals: is read too)
      - name: weekends
        time_intervals: [{weekdays: [saturday, sunday]}]
    receivers:
      - name: default
        integrations: [{type: console}]

A route tree and inhibit rules pasted from an ``alertmanager.yml`` route the
same way. Receivers hold auditwatch integrations (see
:mod:`alerts.integrations.config`); their templates are jinja2, not Go.

Validation runs in two steps, both with the location of each problem:
pydantic checks each part (:class:`RouterConfig`), then
:func:`check_router_config` checks what refers to what (receivers and time
intervals named by routes exist, the root route matches everything).
:func:`parse_router_config` does both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from alerts.config import DeliveryConfig
from alerts.errors import AlertConfigError
from alerts.integrations.config import (
    AM_CONFIG_KEYS,
    ConsoleIntegrationConfig,
    FileIntegrationConfig,
    IntegrationConfig,
    PagerDutyIntegrationConfig,
    SlackIntegrationConfig,
    WebhookIntegrationConfig,
)
from alerts.redact import Redactor
from alerts.router.durations import parse_duration
from alerts.router.matchers import Matcher, MatchType, parse_matchers
from alerts.router.timeinterval import TimeIntervalConfig

__all__ = [
    "ConfigProblem",
    "GlobalConfig",
    "InhibitRuleConfig",
    "ReceiverConfig",
    "RouteConfig",
    "RouterConfig",
    "RouterConfigError",
    "check_router_config",
    "parse_router_config",
]

Loc = tuple[str | int, ...]


def _scalar_text(value: Any) -> Any:
    """YAML reads ``test: 2`` as a number; Alertmanager reads every label value as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _regex_text(value: str) -> str:
    Matcher("label", MatchType.REGEX, value)  # raises ValueError naming the problem
    return value


def _matcher_text(value: str) -> str:
    parse_matchers(value)
    return value


ScalarText = Annotated[str, BeforeValidator(_scalar_text)]
RegexText = Annotated[str, BeforeValidator(_scalar_text), AfterValidator(_regex_text)]
MatcherText = Annotated[str, AfterValidator(_matcher_text)]
Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


def legacy_matchers(match: Mapping[str, str] | None, match_re: Mapping[str, str] | None) -> list[Matcher]:
    """Matchers for the older ``match`` and ``match_re`` maps.

    A ``match_re`` value keeps Alertmanager's anchored spelling (``^(?:x)$``),
    which shows in route keys.
    """
    found = [Matcher(name, MatchType.EQUAL, value) for name, value in (match or {}).items()]
    found += [Matcher(name, MatchType.REGEX, f"^(?:{value})$") for name, value in (match_re or {}).items()]
    return found


def matchers_of(texts: list[str] | None) -> list[Matcher]:
    return [matcher for text in texts or [] for matcher in parse_matchers(text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RouteConfig(_Strict):
    """One node of the routing tree; unset options are inherited from the parent."""

    receiver: str | None = None
    group_by: list[str] | None = None
    continue_: bool = Field(default=False, alias="continue")
    match: dict[str, ScalarText] | None = None
    match_re: dict[str, RegexText] | None = None
    matchers: list[MatcherText] | None = None
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list)
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    labels: dict[str, ScalarText] | None = None
    routes: list[RouteConfig] = Field(default_factory=list)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, names: list[str] | None) -> list[str] | None:
        if names is None:
            return None
        if "..." in names and len(names) > 1:
            raise ValueError("'...' groups by every label, so it must be the only entry of group_by")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} is listed more than once")
        return names

    @field_validator("group_interval", "repeat_interval")
    @classmethod
    def _positive(cls, seconds: float | None) -> float | None:
        if seconds is not None and seconds <= 0:
            raise ValueError("must be more than zero")
        return seconds

    def all_matchers(self) -> list[Matcher]:
        return legacy_matchers(self.match, self.match_re) + matchers_of(self.matchers)

    def has_matchers(self) -> bool:
        return bool(self.match or self.match_re or self.matchers)


class InhibitRuleConfig(_Strict):
    """Mute alerts matching the target while an alert matching the source fires, if ``equal`` agree."""

    source_match: dict[str, ScalarText] | None = None
    source_match_re: dict[str, RegexText] | None = None
    source_matchers: list[MatcherText] | None = None
    target_match: dict[str, ScalarText] | None = None
    target_match_re: dict[str, RegexText] | None = None
    target_matchers: list[MatcherText] | None = None
    equal: list[str] = Field(default_factory=list)

    def source(self) -> list[Matcher]:
        return legacy_matchers(self.source_match, self.source_match_re) + matchers_of(self.source_matchers)

    def target(self) -> list[Matcher]:
        return legacy_matchers(self.target_match, self.target_match_re) + matchers_of(self.target_matchers)


class ReceiverConfig(_Strict):
    """A named receiver and its integrations; every integration gets every notification."""

    name: str = Field(min_length=1)
    integrations: list[IntegrationConfig] = Field(default_factory=list)
    webhook_configs: list[WebhookIntegrationConfig] = Field(default_factory=list)
    slack_configs: list[SlackIntegrationConfig] = Field(default_factory=list)
    pagerduty_configs: list[PagerDutyIntegrationConfig] = Field(default_factory=list)
    console_configs: list[ConsoleIntegrationConfig] = Field(default_factory=list)
    file_configs: list[FileIntegrationConfig] = Field(default_factory=list)

    def all_integrations(self) -> list[tuple[str, IntegrationConfig]]:
        """``(name, config)`` for each integration; names are ``receiver/type/index``."""
        entries: list[IntegrationConfig] = list(self.integrations)
        for key in AM_CONFIG_KEYS:
            entries.extend(getattr(self, key))
        counts: dict[str, int] = {}
        named: list[tuple[str, IntegrationConfig]] = []
        for entry in entries:
            index = counts.get(entry.type, 0)
            counts[entry.type] = index + 1
            named.append((f"{self.name}/{entry.type}/{index}", entry))
        return named


class GlobalConfig(_Strict):
    resolve_timeout: Duration = Field(
        default=300.0, description="an alert not received again for this long is resolved"
    )


class RouterConfig(_Strict):
    """The whole router config file."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    route: RouteConfig
    receivers: list[ReceiverConfig] = Field(min_length=1)
    inhibit_rules: list[InhibitRuleConfig] = Field(default_factory=list)
    time_intervals: list[TimeIntervalConfig] = Field(default_factory=list)
    mute_time_intervals: list[TimeIntervalConfig] = Field(
        default_factory=list, description="Alertmanager's older name for time_intervals"
    )
    templates: list[str] = Field(default_factory=list)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    redact_keys: list[str] = Field(default_factory=list)
    external_url: str = ""

    @field_validator("templates")
    @classmethod
    def _no_go_templates(cls, files: list[str]) -> list[str]:
        if files:
            raise ValueError(
                "Go template files are not supported; write jinja2 templates in the integrations' "
                "title, text and summary fields instead"
            )
        return files

    @field_validator("redact_keys")
    @classmethod
    def _redact_keys(cls, keys: list[str]) -> list[str]:
        try:
            Redactor(keys)
        except AlertConfigError as exc:
            raise ValueError(str(exc)) from None
        return keys

    def intervals(self) -> dict[str, TimeIntervalConfig]:
        return {entry.name: entry for entry in [*self.time_intervals, *self.mute_time_intervals]}

    def receiver(self, name: str) -> ReceiverConfig:
        return next(receiver for receiver in self.receivers if receiver.name == name)

    def redactor(self) -> Redactor:
        return Redactor(self.redact_keys)


@dataclass(frozen=True)
class ConfigProblem:
    """One problem, at a location in the document (``("route", "routes", 0, "receiver")``)."""

    loc: Loc
    message: str

    def __str__(self) -> str:
        path = ".".join(str(part) for part in self.loc) or "(document)"
        return f"{path}: {self.message}"


class RouterConfigError(AlertConfigError):
    """The router config refers to things that do not exist, or breaks a rule of the tree."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("invalid router config:\n  " + "\n  ".join(str(p) for p in problems))
        self.problems = problems


def _walk(route: RouteConfig, loc: Loc) -> Iterator[tuple[RouteConfig, Loc]]:
    yield route, loc
    for index, child in enumerate(route.routes):
        yield from _walk(child, (*loc, "routes", index))


def check_router_config(config: RouterConfig) -> list[ConfigProblem]:
    """What pydantic cannot see: references between parts, and the root route's rules."""
    problems: list[ConfigProblem] = []
    root = config.route
    if not root.receiver:
        problems.append(
            ConfigProblem(("route",), "the root route needs a receiver: the default for every alert")
        )
    if root.has_matchers():
        problems.append(
            ConfigProblem(("route",), "the root route must not have matchers: it matches every alert")
        )
    if root.continue_:
        problems.append(ConfigProblem(("route", "continue"), "the root route cannot have continue"))
    for key in ("mute_time_intervals", "active_time_intervals"):
        if getattr(root, key):
            problems.append(ConfigProblem(("route", key), f"the root route cannot have {key}"))
    names = [receiver.name for receiver in config.receivers]
    for index, name in enumerate(names):
        if names.index(name) != index:
            problems.append(
                ConfigProblem(("receivers", index, "name"), f"receiver {name!r} is defined twice")
            )
    interval_list = [*config.time_intervals, *config.mute_time_intervals]
    interval_names = [entry.name for entry in interval_list]
    for index, name in enumerate(interval_names):
        if interval_names.index(name) != index:
            problems.append(ConfigProblem(("time_intervals",), f"time interval {name!r} is defined twice"))
    for route, loc in _walk(root, ("route",)):
        if route.receiver is not None and route.receiver not in names:
            problems.append(
                ConfigProblem(
                    (*loc, "receiver"),
                    f"undefined receiver {route.receiver!r}; define it under receivers: "
                    f"(defined: {', '.join(names)})",
                )
            )
        for key in ("mute_time_intervals", "active_time_intervals"):
            for position, name in enumerate(getattr(route, key)):
                if name not in interval_names:
                    problems.append(ConfigProblem((*loc, key, position), f"undefined time interval {name!r}"))
    return problems


def parse_router_config(data: Any) -> RouterConfig:
    """Validate a router config document.

    Raises pydantic's ``ValidationError`` for a malformed part, or
    :class:`RouterConfigError` for broken references; both carry locations.
    """
    config = RouterConfig.model_validate(data)
    problems = check_router_config(config)
    if problems:
        raise RouterConfigError(problems)
    return config
