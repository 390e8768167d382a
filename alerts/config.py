"""The ``alerts:`` section of the config, and building sinks and the dispatcher from it.

Plain pydantic models with ``extra="forbid"``, so that the pipeline's YAML loader
can embed them and report a typo with its file and line. Each sink is one entry
of a list, told apart by ``type:``::

    alerts:
      redact_keys: [ssn, card_number]
      delivery: {max_attempts: 5, base_delay: 0.5, max_delay: 30}
      sinks:
        - type: console
          min_severity: low
        - type: slack
          name: slack-secops
          min_severity: high
          url_env: AUDITWATCH_SLACK_WEBHOOK_URL
        - type: webhook
          name: soar
          url_env: AUDITWATCH_WEBHOOK_URL
          secret_env: AUDITWATCH_WEBHOOK_SECRET

Secrets are never config values. A config names the environment variables
that hold webhook URLs and signing keys, and :func:`build_sinks` reads them at
start-up, so a config file can be committed, reviewed and logged. A webhook
always needs a signing key: receivers must be able to reject forgeries.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console

from alerts.delivery import Dispatcher, Park, RetryPolicy, Sleep
from alerts.errors import AlertConfigError
from alerts.model import SeverityName
from alerts.redact import Redactor
from alerts.sinks.base import Sink
from alerts.sinks.console import ConsoleSink
from alerts.sinks.slack import SlackSink
from alerts.sinks.webhook import WebhookSink
from detectors.findings import Severity

__all__ = [
    "AlertsConfig",
    "ConsoleSinkConfig",
    "DeliveryConfig",
    "SinkConfig",
    "SlackSinkConfig",
    "WebhookSinkConfig",
    "build_dispatcher",
    "build_sinks",
]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Keys someone may write a secret under, and where the secret's variable name goes instead.
_INLINE_SECRETS = {
    "url": "url_env",
    "webhook_url": "url_env",
    "secret": "secret_env",
    "signing_key": "secret_env",
}


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(
            "give the name of an environment variable (like AUDITWATCH_WEBHOOK_URL), "
            "not its value: secrets and URLs go in the environment, never in config"
        )
    return value


EnvVarName = Annotated[str, AfterValidator(_env_name)]


class _SinkConfig(BaseModel):
    # An error must not echo a secret pasted into the config where it does not belong.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str = Field(min_length=1, description="unique; parked notifications name it")
    min_severity: SeverityName = Severity.INFO

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_inline(cls, data: Any) -> Any:
        """Say where a URL or key goes instead, rather than just "extra field"."""
        if isinstance(data, Mapping):
            for key, instead in _INLINE_SECRETS.items():
                if key in data:
                    raise ValueError(
                        f"'{key}' cannot be set in config: put the value in an environment "
                        f"variable and give that variable's name in '{instead}'"
                    )
        return data


class ConsoleSinkConfig(_SinkConfig):
    """Print alerts to standard output."""

    type: Literal["console"] = "console"
    name: str = Field(default="console", min_length=1)
    max_evidence: int = Field(default=10, ge=0, le=100)


class WebhookSinkConfig(_SinkConfig):
    """POST signed JSON to a receiver (see :mod:`alerts.sinks.webhook`)."""

    type: Literal["webhook"] = "webhook"
    name: str = Field(default="webhook", min_length=1)
    url_env: EnvVarName = "AUDITWATCH_WEBHOOK_URL"
    secret_env: EnvVarName = "AUDITWATCH_WEBHOOK_SECRET"
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per attempt")


class SlackSinkConfig(_SinkConfig):
    """Post to a Slack channel through an incoming webhook."""

    type: Literal["slack"] = "slack"
    name: str = Field(default="slack", min_length=1)
    url_env: EnvVarName = "AUDITWATCH_SLACK_WEBHOOK_URL"
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per attempt")
    max_evidence: int = Field(default=10, ge=0, le=50)


SinkConfig = Annotated[
    ConsoleSinkConfig | WebhookSinkConfig | SlackSinkConfig, Field(discriminator="type")
]


class DeliveryConfig(BaseModel):
    """Retry settings shared by all sinks (see :class:`alerts.delivery.RetryPolicy`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=5, ge=1, le=100)
    base_delay: float = Field(default=0.5, ge=0, description="seconds before the first retry")
    factor: float = Field(default=2.0, ge=1, le=10)
    max_delay: float = Field(default=30.0, ge=0, description="cap on one backoff, seconds")
    max_retry_after: float = Field(
        default=120.0, ge=0, description="cap on a receiver's Retry-After, seconds"
    )

    def policy(self, rng: random.Random | None = None) -> RetryPolicy:
        """The retry policy these settings describe; ``rng`` pins the jitter in tests."""
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.base_delay,
            factor=self.factor,
            max_delay=self.max_delay,
            max_retry_after=self.max_retry_after,
            rng=rng or random.Random(),
        )


def _default_sinks() -> list[SinkConfig]:
    return [ConsoleSinkConfig()]


class AlertsConfig(BaseModel):
    """The whole ``alerts:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    sinks: list[SinkConfig] = Field(default_factory=_default_sinks)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    redact_keys: list[str] = Field(
        default_factory=list, description="field names to redact besides the built-in ones"
    )
    router: Path | None = Field(
        default=None,
        description="the router config (router.yaml, relative to this file); when set, alerts are "
        "routed, grouped, inhibited and silenced by it, and 'sinks' is not used",
    )
    router_tick: float = Field(
        default=1.0, gt=0, le=60, description="seconds between the router's checks for groups due to flush"
    )
    silences_api_port: int = Field(
        default=0, ge=0, le=65535, description="port of the silences HTTP API on 127.0.0.1; 0 = off"
    )

    @field_validator("sinks")
    @classmethod
    def _sinks(cls, sinks: list[SinkConfig]) -> list[SinkConfig]:
        if not sinks:
            raise ValueError(
                "configure at least one sink (type: console, webhook or slack); "
                "alerts with nowhere to go would be lost"
            )
        names = [sink.name for sink in sinks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"sink name {', '.join(duplicates)} is used more than once; give each sink "
                "its own 'name:' (parked notifications are replayed to the sink they name)"
            )
        return sinks

    @field_validator("redact_keys")
    @classmethod
    def _redact_keys(cls, keys: list[str]) -> list[str]:
        try:
            Redactor(keys)
        except AlertConfigError as exc:
            raise ValueError(str(exc)) from None
        return keys

    def redactor(self) -> Redactor:
        """The redactor for :func:`alerts.model.build_alert`: built-in keys plus ``redact_keys``."""
        return Redactor(self.redact_keys)


def build_sinks(
    config: AlertsConfig,
    client: httpx.AsyncClient,
    environ: Mapping[str, str],
    *,
    console: Console | None = None,
) -> list[Sink]:
    """The configured sinks, with URLs and keys read from ``environ``.

    Every problem is collected first, so one start-up shows them all; then
    :class:`AlertConfigError` is raised naming each sink and environment
    variable (never their values).
    """
    sinks: list[Sink] = []
    problems: list[str] = []
    for entry in config.sinks:
        where = f"sink {entry.name!r} (type {entry.type})"
        match entry:
            case ConsoleSinkConfig():
                sinks.append(
                    ConsoleSink(
                        entry.name,
                        min_severity=entry.min_severity,
                        console=console,
                        max_evidence=entry.max_evidence,
                    )
                )
            case WebhookSinkConfig():
                url = _url(environ, entry.url_env, where, problems, schemes=("http", "https"))
                secret = _required(environ, entry.secret_env, where, problems, _SECRET_HELP)
                if url is None or secret is None:
                    continue
                try:
                    sink = WebhookSink(
                        entry.name,
                        url,
                        secret,
                        client,
                        min_severity=entry.min_severity,
                        timeout=entry.timeout,
                    )
                except AlertConfigError as exc:
                    problems.append(f"{where}: {entry.secret_env}: {exc}")
                    continue
                sinks.append(sink)
            case SlackSinkConfig():
                url = _url(environ, entry.url_env, where, problems, schemes=("https",))
                if url is not None:
                    sinks.append(
                        SlackSink(
                            entry.name,
                            url,
                            client,
                            min_severity=entry.min_severity,
                            timeout=entry.timeout,
                            max_evidence=entry.max_evidence,
                        )
                    )
    if problems:
        raise AlertConfigError("cannot build the alert sinks:\n  " + "\n  ".join(problems))
    return sinks


def build_dispatcher(
    config: AlertsConfig,
    client: httpx.AsyncClient,
    environ: Mapping[str, str],
    park: Park,
    *,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    console: Console | None = None,
) -> Dispatcher:
    """A :class:`Dispatcher` over the configured sinks, with the configured retry policy."""
    sinks = build_sinks(config, client, environ, console=console)
    return Dispatcher(sinks, config.delivery.policy(rng), park, sleep)


_SECRET_HELP = (
    "webhooks are always signed; set it to a key shared with the receiver, as "
    "'whsec_' followed by base64 of 32 random bytes"
)


def _required(
    environ: Mapping[str, str], var: str, where: str, problems: list[str], help_text: str
) -> str | None:
    value = environ.get(var, "").strip()
    if not value:
        problems.append(f"{where}: environment variable {var} is not set; {help_text}")
        return None
    return value


def _url(
    environ: Mapping[str, str],
    var: str,
    where: str,
    problems: list[str],
    *,
    schemes: tuple[str, ...],
) -> str | None:
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    value = _required(environ, var, where, problems, f"set it to the receiver's {wanted} URL")
    if value is None:
        return None
    try:
        parsed = httpx.URL(value)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in schemes or not parsed.host:
        # The value itself is a secret (for Slack, the URL is the credential): not shown.
        problems.append(f"{where}: {var} is not a valid {wanted} URL")
        return None
    return value
