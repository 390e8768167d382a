"""Build the alert dispatcher from config and the environment, for worker and replay.

A webhook or Slack sink whose environment variables are all unset is switched
off with a warning, so that the shipped config runs as-is on a laptop (console
only) and lights up in production when the secrets are provided. A sink that is
half-configured (a URL without its signing key) is an error, not a warning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx
from rich.console import Console

from alerts.config import AlertsConfig, ConsoleSinkConfig, SinkConfig
from alerts.config import build_dispatcher as build_alert_dispatcher
from alerts.delivery import Dispatcher, Park

__all__ = ["build_dispatcher", "unconfigured_sinks"]


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
