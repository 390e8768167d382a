"""Build the alert dispatcher (or the router's integrations) from config and the environment.

A webhook or Slack sink whose environment variables are all unset is switched
off with a warning, so that the shipped config runs as-is on a laptop (console
only) and lights up in production when the secrets are provided. A sink that is
half-configured (a URL without its signing key) is an error, not a warning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx
from prometheus_client import Counter, Histogram
from rich.console import Console

from alerts.config import AlertsConfig, ConsoleSinkConfig, SinkConfig
from alerts.config import build_dispatcher as build_alert_dispatcher
from alerts.delivery import Dispatcher, Park
from alerts.integrations.build import Integrations, build_integrations
from alerts.integrations.delivery import GroupPark, SendOutcome
from alerts.router.spec import RouterSpec
from alerts.sinks.base import SendResult

__all__ = ["RouterMetrics", "build_dispatcher", "build_router_integrations", "unconfigured_sinks"]


def _env_names(sink: SinkConfig) -> list[str]:
    if isinstance(sink, ConsoleSinkConfig):
        return []
    return [getattr(sink, key) for key in ("url_env", "secret_env") if hasattr(sink, key)]


def unconfigured_sinks(config: AlertsConfig, environ: Mapping[str, str]) -> list[SinkConfig]:
    """Sinks none of whose environment variables is set."""
    return [
        sink
        for sink in config.sinks
        if (names := _env_names(sink)) and not any(environ.get(name, "").strip() for name in names)
    ]


def build_dispatcher(
    config: AlertsConfig,
    client: httpx.AsyncClient,
    park: Park,
    *,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
    warn: Console | None = None,
) -> Dispatcher:
    env = os.environ if environ is None else environ
    off = unconfigured_sinks(config, env)
    for sink in off:
        (warn or Console(stderr=True, soft_wrap=True)).print(
            f"[yellow]sink {sink.name!r} ({sink.type}) is off: set {' and '.join(_env_names(sink))} "
            "to enable it[/]",
            highlight=False,
        )
    active = config.model_copy(update={"sinks": [s for s in config.sinks if s not in off]})
    return build_alert_dispatcher(active, client, env, park, console=console)


# -- the router (alerts.router set in the config) -------------------------------------------------

ROUTER_NOTIFICATIONS = Counter(
    "auditwatch_router_notifications_total",
    "Router deliveries per receiver and integration: sent, failed (an attempt), retried, parked",
    ["receiver", "integration", "outcome"],
)
ROUTER_LATENCY = Histogram(
    "auditwatch_router_notification_seconds",
    "Seconds one delivery attempt took, per receiver and integration",
    ["receiver", "integration"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class RouterMetrics:
    """A :class:`~alerts.integrations.delivery.DeliveryObserver` writing Prometheus metrics."""

    @staticmethod
    def _labels(integration: str) -> tuple[str, str]:
        return integration.split("/", 1)[0], integration

    def attempted(self, integration: str, result: SendResult, seconds: float) -> None:
        receiver, name = self._labels(integration)
        ROUTER_LATENCY.labels(receiver, name).observe(seconds)
        ROUTER_NOTIFICATIONS.labels(receiver, name, "sent" if result.ok else "failed").inc()

    def retrying(self, integration: str, delay: float) -> None:
        ROUTER_NOTIFICATIONS.labels(*self._labels(integration), "retried").inc()

    def finished(self, integration: str, outcome: SendOutcome) -> None:
        if outcome.parked:
            ROUTER_NOTIFICATIONS.labels(*self._labels(integration), "parked").inc()


def build_router_integrations(
    spec: RouterSpec,
    client: httpx.AsyncClient,
    park: GroupPark,
    *,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
    console: Console | None = None,
    warn: Console | None = None,
) -> Integrations:
    """The router's integrations, warning about those switched off for want of their variables."""
    env = os.environ if environ is None else environ
    built = build_integrations(
        spec, client, env, park, base_dir=base_dir, console=console, observer=RouterMetrics()
    )
    for name, variables in built.off:
        (warn or Console(stderr=True, soft_wrap=True)).print(
            f"[yellow]integration {name!r} is off: set {' and '.join(variables)} to enable it[/]",
            highlight=False,
        )
    return built
