"""The routing tree: which receivers an alert goes to, and how it is grouped there.

The semantics are Alertmanager's (``dispatch/route.go``):

* matching is depth first, left to right. A node matches when all its
  matchers do; its children are tried in order, and the first child that
  matches ends the search among its siblings unless it has ``continue: true``.
  A matching node none of whose children match is itself a result;
* a node inherits ``receiver``, ``group_by``, ``group_wait``,
  ``group_interval`` and ``repeat_interval`` from its parent unless it sets
  them (``mute_time_intervals`` and ``active_time_intervals`` are not
  inherited); ``group_by: [...]`` groups by every label;
* a route's *key* is its matchers and its ancestors'
  (``{}/{severity="critical"}``), and an alert's *group key* is the route
  key and its group labels (``{}/{severity="critical"}:{alertname="x"}``).
  Sibling routes with the same matchers share a key; a route's *id* adds
  its position, so it is unique.

>>> root = build_route(RouteConfig.model_validate({"receiver": "default", "routes": [
...     {"matchers": ['severity="critical"'], "receiver": "pager"}]}))
>>> [route.opts.receiver for route in root.match({"severity": "critical"})]
['pager']
>>> [route.opts.receiver for route in root.match({"severity": "low"})]
['default']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from alerts.router.config import RouteConfig
from alerts.router.durations import format_duration
from alerts.router.matchers import (
    Matcher,
    labelset_string,
    matchers_match,
    matchers_string,
    sort_matchers,
)

__all__ = ["DEFAULT_OPTS", "Route", "RouteOpts", "build_route"]


@dataclass(frozen=True)
class RouteOpts:
    """What a route decides for the alerts it takes (after inheritance)."""

    receiver: str = ""
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels an alert is grouped by here (a label the alert lacks is left out)."""
        if self.group_by_all:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}


DEFAULT_OPTS = RouteOpts()


@dataclass(eq=False)
class Route:
    """One node of the tree, with its effective options."""

    opts: RouteOpts
    matchers: tuple[Matcher, ...]
    continue_: bool
    parent: Route | None = None
    index: int = 0
    routes: list[Route] = field(default_factory=list)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """Every route that takes an alert with ``labels``, in tree order (empty if none)."""
        if not matchers_match(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        return found or [self]

    def key(self) -> str:
        """Alertmanager's route key: the matchers from the root down, ``/``-joined."""
        own = matchers_string(self.matchers)
        return f"{self.parent.key()}/{own}" if self.parent is not None else own

    def id(self) -> str:
        """Like :meth:`key`, with each node's position among its siblings: unique in the tree."""
        own = matchers_string(self.matchers)
        if self.parent is None:
            return own
        return f"{self.parent.id()}/{own}/{self.index}"

    def group_key(self, labels: Mapping[str, str]) -> str:
        """The key of the aggregation group an alert with ``labels`` joins here."""
        return f"{self.key()}:{labelset_string(self.opts.group_labels(labels))}"

    def group_id(self, labels: Mapping[str, str]) -> str:
        """Like :meth:`group_key` but unique per route: the router's state is keyed by it."""
        return f"{self.id()}:{labelset_string(self.opts.group_labels(labels))}"

    def walk(self) -> list[Route]:
        """This route and all below it, depth first."""
        return [self, *(node for child in self.routes for node in child.walk())]

    def find(self, route_id: str) -> Route | None:
        return next((node for node in self.walk() if node.id() == route_id), None)

    def describe(self) -> str:
        """One line for trees: matchers, receiver, grouping and timers."""
        opts = self.opts
        group_by = "..." if opts.group_by_all else ",".join(sorted(opts.group_by))
        parts = [
            matchers_string(self.matchers) if self.parent is not None else "(root)",
            f"receiver: {opts.receiver}",
            f"group_by: [{group_by}]",
            f"wait/interval/repeat: {format_duration(opts.group_wait)}/"
            f"{format_duration(opts.group_interval)}/{format_duration(opts.repeat_interval)}",
        ]
        if self.continue_:
            parts.append("continue")
        if opts.mute_time_intervals:
            parts.append(f"muted in: {','.join(opts.mute_time_intervals)}")
        if opts.active_time_intervals:
            parts.append(f"active in: {','.join(opts.active_time_intervals)}")
        return "  ".join(parts)


def build_route(config: RouteConfig, parent: Route | None = None, index: int = 0) -> Route:
    """The tree of ``config``, with options inherited as Alertmanager does."""
    base = parent.opts if parent is not None else DEFAULT_OPTS
    opts = replace(
        base,
        mute_time_intervals=tuple(config.mute_time_intervals),
        active_time_intervals=tuple(config.active_time_intervals),
    )
    if config.receiver:
        opts = replace(opts, receiver=config.receiver)
    if config.group_by is not None:
        every = config.group_by == ["..."]
        opts = replace(
            opts, group_by=frozenset() if every else frozenset(config.group_by), group_by_all=every
        )
    if config.group_wait is not None:
        opts = replace(opts, group_wait=config.group_wait)
    if config.group_interval is not None:
        opts = replace(opts, group_interval=config.group_interval)
    if config.repeat_interval is not None:
        opts = replace(opts, repeat_interval=config.repeat_interval)
    if config.labels:
        opts = replace(opts, labels={**base.labels, **config.labels})
    route = Route(
        opts=opts,
        matchers=sort_matchers(config.all_matchers()),
        continue_=config.continue_,
        parent=parent,
        index=index,
    )
    route.routes = [build_route(child, route, position) for position, child in enumerate(config.routes)]
    return route
