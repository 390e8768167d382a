"""The alert router: Alertmanager's routing tree, grouping, inhibition, silences and time intervals.

Pure code, no Kafka: the pipeline feeds it alerts and a clock, and stores its
state. One concept per module:

==================  ===========================================================
``matchers``        label matchers (``=``, ``!=``, ``=~``, ``!~``)
``durations``       ``30s``, ``5m``, ``4h``
``config``          ``router.yaml``: route, inhibit_rules, time_intervals, receivers
``route``           the routing tree: matching, inheritance, route and group keys
``spec``            a loaded config, ready to route
``mute``            the :class:`Muter` interface and time-interval muting
``inhibit``         inhibit rules and the index of firing alerts
``silence``         silences and the silencer
``timeinterval``    time intervals
``notification``    an alert inside the router, and a notification
``cases``           routing test cases (``auditwatch routes test --cases``)
==================  ===========================================================
"""

from alerts.notification import AlertState, Notification, routing_labels
from alerts.router.cases import CaseFile, CaseResult, RouteCase, run_case, run_cases
from alerts.router.config import (
    ConfigProblem,
    InhibitRuleConfig,
    ReceiverConfig,
    RouteConfig,
    RouterConfig,
    RouterConfigError,
    check_router_config,
    parse_router_config,
)
from alerts.router.durations import format_duration, parse_duration
from alerts.router.inhibit import ActiveAlerts, Inhibitor, InhibitRule
from alerts.router.matchers import Matcher, MatchType, labelset_string, parse_matcher, parse_matchers
from alerts.router.mute import Muter, TimeMuter
from alerts.router.route import Route, RouteOpts, build_route
from alerts.router.silence import Silence, Silencer, Silences, new_silence
from alerts.router.spec import RouterSpec
from alerts.router.timeinterval import TimeIntervalConfig

__all__ = [
    "ActiveAlerts",
    "AlertState",
    "CaseFile",
    "CaseResult",
    "ConfigProblem",
    "InhibitRule",
    "InhibitRuleConfig",
    "Inhibitor",
    "MatchType",
    "Matcher",
    "Muter",
    "Notification",
    "ReceiverConfig",
    "Route",
    "RouteCase",
    "RouteConfig",
    "RouteOpts",
    "RouterConfig",
    "RouterConfigError",
    "RouterSpec",
    "Silence",
    "Silencer",
    "Silences",
    "TimeIntervalConfig",
    "TimeMuter",
    "build_route",
    "check_router_config",
    "format_duration",
    "labelset_string",
    "new_silence",
    "parse_duration",
    "parse_matcher",
    "parse_matchers",
    "parse_router_config",
    "routing_labels",
    "run_case",
    "run_cases",
]
