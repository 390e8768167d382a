"""Build every receiver's integrations from the router config and the environment.

An integration whose environment variables are all unset is switched off
(and reported, so the pipeline can warn): the shipped config then runs as-is
on a laptop and lights up when the secrets are provided. One that is half
configured (a webhook URL without its signing key), or whose URL or key is
malformed, is an error naming the integration and the variable, never the
value.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console

from alerts.config import _SECRET_HELP, _required, _url
from alerts.delivery import Sleep
from alerts.errors import AlertConfigError
from alerts.integrations.base import Notifier
from alerts.integrations.config import (
    ConsoleIntegrationConfig,
    FileIntegrationConfig,
    IntegrationConfig,
    PagerDutyIntegrationConfig,
    SlackIntegrationConfig,
    WebhookIntegrationConfig,
)
from alerts.integrations.console import ConsoleNotifier
from alerts.integrations.delivery import DeliveryObserver, GroupPark, IntegrationSender, TokenBucket
from alerts.integrations.file import FileNotifier
from alerts.integrations.pagerduty import PagerDutyNotifier
from alerts.integrations.slack import SlackNotifier
from alerts.integrations.webhook import WebhookNotifier
from alerts.redact import Redactor
from alerts.router.dispatch import IntegrationRef
from alerts.router.spec import RouterSpec

__all__ = ["Integrations", "build_integrations", "env_names"]


def env_names(config: IntegrationConfig) -> list[str]:
    """The environment variables an integration reads its URL and keys from."""
    return [
        getattr(config, key) for key in ("url_env", "secret_env", "routing_key_env") if hasattr(config, key)
    ]


@dataclass
class Integrations:
    """The senders by integration name, and what the dispatcher needs per receiver."""

    senders: dict[str, IntegrationSender] = field(default_factory=dict)
    refs: dict[str, list[IntegrationRef]] = field(default_factory=dict)
    off: list[tuple[str, list[str]]] = field(default_factory=list)
    """``(integration, variables)`` switched off because none of its variables is set."""


def build_integrations(
    spec: RouterSpec,
    client: httpx.AsyncClient,
    environ: Mapping[str, str],
    park: GroupPark,
    *,
    base_dir: Path = Path("."),
    console: Console | None = None,
    observer: DeliveryObserver | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> Integrations:
    """Every receiver's integrations; raises :class:`AlertConfigError` listing each problem."""
    built = Integrations()
    problems: list[str] = []
    redactor = spec.config.redactor()
    for receiver in spec.config.receivers:
        built.refs[receiver.name] = []
        for name, config in receiver.all_integrations():
            variables = env_names(config)
            if variables and not any(environ.get(var, "").strip() for var in variables):
                built.off.append((name, variables))
                continue
            notifier = _notifier(name, config, client, environ, problems, base_dir, console, redactor)
            if notifier is None:
                continue
            delivery = config.delivery or spec.config.delivery
            limit = config.rate_limit
            built.senders[name] = IntegrationSender(
                notifier,
                delivery.policy(rng),
                park,
                concurrency=config.concurrency,
                limiter=TokenBucket(limit.per_second, limit.burst, sleep=sleep)
                if limit is not None
                else None,
                observer=observer,
                sleep=sleep,
            )
            built.refs[receiver.name].append(IntegrationRef(name, notifier.send_resolved))
    if problems:
        raise AlertConfigError("cannot build the receivers' integrations:\n  " + "\n  ".join(problems))
    return built


def _notifier(
    name: str,
    config: IntegrationConfig,
    client: httpx.AsyncClient,
    environ: Mapping[str, str],
    problems: list[str],
    base_dir: Path,
    console: Console | None,
    redactor: Redactor,
) -> Notifier | None:
    where = f"integration {name!r}"
    match config:
        case WebhookIntegrationConfig():
            url = _url(environ, config.url_env, where, problems, schemes=("http", "https"))
            secret = _required(environ, config.secret_env, where, problems, _SECRET_HELP)
            if url is None or secret is None:
                return None
            try:
                return WebhookNotifier(
                    name,
                    url,
                    secret,
                    client,
                    send_resolved=config.send_resolved,
                    max_alerts=config.max_alerts,
                    timeout=config.timeout,
                    redactor=redactor,
                )
            except AlertConfigError as exc:
                problems.append(f"{where}: {config.secret_env}: {exc}")
                return None
        case SlackIntegrationConfig():
            url = _url(environ, config.url_env, where, problems, schemes=("https", "http"))
            return None if url is None else SlackNotifier(name, url, client, config, redactor=redactor)
        case PagerDutyIntegrationConfig():
            key = _required(
                environ,
                config.routing_key_env,
                where,
                problems,
                "set it to the PagerDuty integration's routing key",
            )
            return None if key is None else PagerDutyNotifier(name, key, client, config, redactor=redactor)
        case ConsoleIntegrationConfig():
            return ConsoleNotifier(
                name, send_resolved=config.send_resolved, console=console, max_evidence=config.max_evidence
            )
        case FileIntegrationConfig():
            path = config.path if config.path.is_absolute() else base_dir / config.path
            return FileNotifier(name, path, send_resolved=config.send_resolved, redactor=redactor)
