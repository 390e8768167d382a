"""A loaded router config, ready to route: the tree, the inhibit rules and the time intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerts.router.config import ReceiverConfig, RouterConfig
from alerts.router.inhibit import InhibitRule
from alerts.router.mute import TimeMuter
from alerts.router.route import Route, build_route
from alerts.router.timeinterval import TimeIntervalConfig

__all__ = ["RouterSpec"]


@dataclass(frozen=True, eq=False)
class RouterSpec:
    """What the router does, built once from a validated :class:`RouterConfig`."""

    config: RouterConfig
    root: Route
    inhibit_rules: tuple[InhibitRule, ...]
    intervals: Mapping[str, TimeIntervalConfig]

    @classmethod
    def of(cls, config: RouterConfig) -> RouterSpec:
        return cls(
            config=config,
            root=build_route(config.route),
            inhibit_rules=tuple(InhibitRule.of(rule) for rule in config.inhibit_rules),
            intervals=config.intervals(),
        )

    @property
    def resolve_timeout(self) -> float:
        return self.config.global_.resolve_timeout

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        return self.root.match(labels)

    def route(self, route_id: str) -> Route | None:
        return self.root.find(route_id)

    def time_muter(self, route: Route) -> TimeMuter:
        return TimeMuter(route.opts.mute_time_intervals, route.opts.active_time_intervals, self.intervals)

    def receiver(self, name: str) -> ReceiverConfig:
        return self.config.receiver(name)
