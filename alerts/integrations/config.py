"""How a receiver's integrations are configured: one entry per integration, told apart by ``type``.

::

    receivers:
      - name: secops
        integrations:
          - type: slack
            url_env: SECOPS_SLACK_URL
            title: "{{ common_labels.alertname }}: {{ alerts|length }} alert(s)"
          - type: pagerduty
            routing_key_env: SECOPS_PD_KEY
          - type: webhook
            url_env: SOAR_URL
            secret_env: SOAR_SECRET

Alertmanager's form is accepted too: ``slack_configs``, ``webhook_configs``
and ``pagerduty_configs`` (and ``console_configs``, ``file_configs``) hold
entries of one type each, without ``type``. Secrets never go in the file: an
entry names the environment variables that hold its URL or key (``url_env``,
``secret_env``, ``routing_key_env``), and a pasted ``api_url`` or
``routing_key`` is refused with a message saying so.

Every integration delivers with retries (``delivery``, defaulting to the
router's), at most ``concurrency`` requests at a time and at most
``rate_limit.per_second`` on average (Slack asks for one message per second
per webhook, so that is Slack's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from alerts.config import DeliveryConfig, EnvVarName
from alerts.templates import check_template

__all__ = [
    "AM_CONFIG_KEYS",
    "ConsoleIntegrationConfig",
    "FileIntegrationConfig",
    "IntegrationConfig",
    "PagerDutyIntegrationConfig",
    "RateLimitConfig",
    "SlackIntegrationConfig",
    "WebhookIntegrationConfig",
]

TemplateText = Annotated[str, AfterValidator(check_template)]
"""A jinja2 template, compiled and rendered against a sample notification when loaded."""


class RateLimitConfig(BaseModel):
    """A token bucket: ``per_second`` on average, bursts of up to ``burst``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: float = Field(gt=0, le=10_000)
    burst: int = Field(default=1, ge=1, le=10_000)


class _Integration(BaseModel):
    # An error must not echo a secret pasted where it does not belong.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    _inline_secrets: ClassVar[Mapping[str, str]] = {}

    send_resolved: bool = True
    concurrency: int = Field(default=4, ge=1, le=64, description="requests in flight at once")
    rate_limit: RateLimitConfig | None = None
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per attempt")
    delivery: DeliveryConfig | None = Field(default=None, description="overrides the router's delivery")

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_inline(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key, instead in cls._inline_secrets.items():
                if key in data:
                    raise ValueError(
                        f"'{key}' cannot be set in config: put the value in an environment "
                        f"variable and give that variable's name in '{instead}'"
                    )
        return data


_URL_SECRETS = {"url": "url_env", "api_url": "url_env", "webhook_url": "url_env", "url_file": "url_env"}


class WebhookIntegrationConfig(_Integration):
    """A signed POST of the group as JSON (Alertmanager's webhook v4 shape)."""

    _inline_secrets: ClassVar[Mapping[str, str]] = {
        **_URL_SECRETS,
        "secret": "secret_env",
        "signing_key": "secret_env",
    }

    type: Literal["webhook"] = "webhook"
    url_env: EnvVarName
    secret_env: EnvVarName
    max_alerts: int = Field(default=0, ge=0, description="alerts per payload; 0 = all")


class SlackIntegrationConfig(_Integration):
    """A Block Kit message to a Slack incoming webhook."""

    _inline_secrets: ClassVar[Mapping[str, str]] = {**_URL_SECRETS, "api_url_file": "url_env"}

    type: Literal["slack"] = "slack"
    url_env: EnvVarName
    send_resolved: bool = False
    concurrency: int = Field(default=1, ge=1, le=64)
    rate_limit: RateLimitConfig | None = Field(
        default_factory=lambda: RateLimitConfig(per_second=1.0, burst=1)
    )
    title: TemplateText | None = Field(default=None, description="header; default: the alerts' title")
    text: TemplateText | None = Field(default=None, description="summary section; default: summaries")
    runbook_url: TemplateText | None = Field(default=None, description="link shown as 'Runbook'")
    max_evidence: int = Field(default=10, ge=0, le=50)


PagerDutySeverity = Literal["critical", "error", "warning", "info"]


class PagerDutyIntegrationConfig(_Integration):
    """PagerDuty Events API v2: trigger, then resolve, with the group as dedup key."""

    _inline_secrets: ClassVar[Mapping[str, str]] = {
        "routing_key": "routing_key_env",
        "service_key": "routing_key_env",
        "routing_key_file": "routing_key_env",
    }

    type: Literal["pagerduty"] = "pagerduty"
    routing_key_env: EnvVarName
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")
    rate_limit: RateLimitConfig | None = Field(
        default_factory=lambda: RateLimitConfig(per_second=2.0, burst=5)
    )
    summary: TemplateText | None = Field(default=None, description="default: the alerts' title")
    severity: TemplateText | None = Field(
        default=None, description="critical, error, warning or info; default: from the highest severity"
    )
    source: TemplateText = "auditwatch"
    component: TemplateText | None = None
    group: TemplateText | None = None
    class_: TemplateText | None = Field(default=None, alias="class")
    client: str = "auditwatch"
    client_url: TemplateText | None = None


class ConsoleIntegrationConfig(_Integration):
    """Print the notification on the worker's standard output."""

    type: Literal["console"] = "console"
    max_evidence: int = Field(default=10, ge=0, le=100)


class FileIntegrationConfig(_Integration):
    """Append each notification as one JSON line (the webhook payload) to a file."""

    type: Literal["file"] = "file"
    path: Path = Field(description="relative to the router config file")


IntegrationConfig = Annotated[
    WebhookIntegrationConfig
    | SlackIntegrationConfig
    | PagerDutyIntegrationConfig
    | ConsoleIntegrationConfig
    | FileIntegrationConfig,
    Field(discriminator="type"),
]

AM_CONFIG_KEYS: Mapping[str, str] = {
    "webhook_configs": "webhook",
    "slack_configs": "slack",
    "pagerduty_configs": "pagerduty",
    "console_configs": "console",
    "file_configs": "file",
}
"""Alertmanager's receiver keys and the integration ``type`` each holds."""
