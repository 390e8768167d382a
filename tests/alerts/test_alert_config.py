"""The alerts config: sink union on type, secrets only by env var name, clear errors."""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from rich.console import Console

from alerts.config import (
    AlertsConfig,
    ConsoleSinkConfig,
    DeliveryConfig,
    SlackSinkConfig,
    WebhookSinkConfig,
    build_dispatcher,
    build_sinks,
)
from alerts.delivery import Outcome, ParkedNotification
from alerts.errors import AlertConfigError
from alerts.model import Alert
from alerts.redact import REDACTED
from alerts.sinks import ConsoleSink, SlackSink, WebhookSink
from detectors.findings import Severity

AlertFactory = Callable[..., Alert]
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
SLACK_URL = "https://hooks.slack.com/services/T0/B0/SLACKTOKEN"
WEBHOOK_URL = "https://soar.example.com/hooks/auditwatch"
ENV = {
    "AUDITWATCH_WEBHOOK_URL": WEBHOOK_URL,
    "AUDITWATCH_WEBHOOK_SECRET": SECRET,
    "AUDITWATCH_SLACK_WEBHOOK_URL": SLACK_URL,
}

# What the pipeline's YAML loader hands over after parsing the alerts: section.
DOCUMENT: dict[str, Any] = {
    "redact_keys": ["ssn"],
    "delivery": {"max_attempts": 3, "base_delay": 1, "max_delay": 10},
    "sinks": [
        {"type": "console", "min_severity": "low"},
        {"type": "slack", "name": "slack-secops", "min_severity": "high"},
        {"type": "webhook", "name": "soar", "min_severity": "medium", "timeout": 5},
    ],
}


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))


def _error(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        AlertsConfig.model_validate(document)
    return str(caught.value)


def test_sinks_are_told_apart_by_type() -> None:
    config = AlertsConfig.model_validate(DOCUMENT)
    console, slack, webhook = config.sinks

    assert isinstance(console, ConsoleSinkConfig)
    assert console.name == "console"
    assert console.min_severity is Severity.LOW
    assert isinstance(slack, SlackSinkConfig)
    assert slack.url_env == "AUDITWATCH_SLACK_WEBHOOK_URL"
    assert slack.min_severity is Severity.HIGH
    assert isinstance(webhook, WebhookSinkConfig)
    assert webhook.secret_env == "AUDITWATCH_WEBHOOK_SECRET"
    assert webhook.timeout == 5
    assert config.delivery.max_attempts == 3


def test_defaults_print_to_the_console() -> None:
    config = AlertsConfig()

    assert config.sinks == [ConsoleSinkConfig()]
    assert config.delivery == DeliveryConfig()


def test_config_round_trips_through_its_own_dump() -> None:
    config = AlertsConfig.model_validate(DOCUMENT)
    dumped = config.model_dump(mode="json")

    assert dumped["sinks"][1]["min_severity"] == "high"
    assert AlertsConfig.model_validate(dumped) == config
    assert "sinks" in AlertsConfig.model_json_schema()["properties"]


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        ({"type": "slack", "min_severty": "high"}, "Extra inputs are not permitted"),
        ({"type": "pagerduty"}, "'console', 'webhook', 'slack'"),
        ({"type": "slack", "min_severity": "urgent"}, "unknown severity 'urgent'"),
        ({"type": "slack", "url": SLACK_URL}, "give that variable's name in 'url_env'"),
        ({"type": "webhook", "secret": "whsec_x"}, "give that variable's name in 'secret_env'"),
        ({"type": "slack", "url_env": SLACK_URL}, "name of an environment variable"),
        ({"type": "webhook", "secret_env": ""}, "name of an environment variable"),
        ({"type": "webhook", "timeout": 0}, "greater than 0"),
    ],
)
def test_bad_sink_entries_are_explained(sink: dict[str, Any], message: str) -> None:
    text = _error({"sinks": [sink]})

    assert message in text
    assert "SLACKTOKEN" not in text


def test_sink_names_must_be_unique() -> None:
    text = _error({"sinks": [{"type": "slack"}, {"type": "slack", "min_severity": "high"}]})

    assert "sink name slack is used more than once" in text


def test_at_least_one_sink() -> None:
    assert "configure at least one sink" in _error({"sinks": []})


def test_bad_redact_key_and_delivery_settings_are_errors() -> None:
    assert "no letters or digits" in _error({"redact_keys": ["__"]})
    assert "max_attempts" in _error({"delivery": {"max_attempts": 0}})
    assert "Extra inputs" in _error({"delivery": {"retries": 3}})


def test_redactor_adds_the_configured_keys() -> None:
    redactor = AlertsConfig.model_validate(DOCUMENT).redactor()

    assert redactor.redact({"ssn": "1", "password": "2", "user": "u"}) == {
        "ssn": REDACTED,
        "password": REDACTED,
        "user": "u",
    }


def test_delivery_config_makes_the_policy() -> None:
    rng = random.Random(0)
    policy = AlertsConfig.model_validate(DOCUMENT).delivery.policy(rng)

    assert (policy.max_attempts, policy.base_delay, policy.max_delay) == (3, 1.0, 10.0)
    assert policy.max_retry_after == 120.0
    assert policy.rng is rng


async def test_build_sinks_reads_urls_and_keys_from_the_environment() -> None:
    config = AlertsConfig.model_validate(DOCUMENT)

    async with _client() as client:
        console, slack, webhook = build_sinks(config, client, ENV)

    assert isinstance(console, ConsoleSink)
    assert isinstance(slack, SlackSink)
    assert isinstance(webhook, WebhookSink)
    assert [s.name for s in (console, slack, webhook)] == ["console", "slack-secops", "soar"]
    assert [s.min_severity for s in (console, slack, webhook)] == [
        Severity.LOW,
        Severity.HIGH,
        Severity.MEDIUM,
    ]


async def test_missing_env_vars_are_all_named_with_their_sinks() -> None:
    config = AlertsConfig.model_validate(DOCUMENT)

    async with _client() as client:
        with pytest.raises(AlertConfigError) as caught:
            build_sinks(config, client, {"AUDITWATCH_WEBHOOK_URL": WEBHOOK_URL})
    message = str(caught.value)

    assert (
        "sink 'slack-secops' (type slack): environment variable "
        "AUDITWATCH_SLACK_WEBHOOK_URL is not set"
    ) in message
    assert (
        "sink 'soar' (type webhook): environment variable AUDITWATCH_WEBHOOK_SECRET is not set; "
        "webhooks are always signed"
    ) in message


async def test_a_webhook_without_a_signing_secret_is_refused() -> None:
    config = AlertsConfig(sinks=[WebhookSinkConfig()])
    env = {"AUDITWATCH_WEBHOOK_URL": WEBHOOK_URL, "AUDITWATCH_WEBHOOK_SECRET": "  "}

    async with _client() as client:
        with pytest.raises(AlertConfigError, match="AUDITWATCH_WEBHOOK_SECRET is not set"):
            build_sinks(config, client, env)


@pytest.mark.parametrize(
    ("sink", "env", "message"),
    [
        (
            WebhookSinkConfig(name="soar"),
            {**ENV, "AUDITWATCH_WEBHOOK_SECRET": "whsec_!!notbase64SECRETVALUE"},
            "sink 'soar' (type webhook): AUDITWATCH_WEBHOOK_SECRET: the webhook signing "
            "secret is not base64",
        ),
        (
            WebhookSinkConfig(name="soar"),
            {**ENV, "AUDITWATCH_WEBHOOK_URL": "soar.example.com/SECRETVALUE"},
            "AUDITWATCH_WEBHOOK_URL is not a valid http:// or https:// URL",
        ),
        (
            SlackSinkConfig(),
            {**ENV, "AUDITWATCH_SLACK_WEBHOOK_URL": "http://hooks.slack.com/SECRETVALUE"},
            "AUDITWATCH_SLACK_WEBHOOK_URL is not a valid https:// URL",
        ),
    ],
)
async def test_bad_env_values_are_named_but_not_shown(
    sink: WebhookSinkConfig | SlackSinkConfig, env: dict[str, str], message: str
) -> None:
    async with _client() as client:
        with pytest.raises(AlertConfigError) as caught:
            build_sinks(AlertsConfig(sinks=[sink]), client, env)

    assert message in str(caught.value)
    assert "SECRETVALUE" not in str(caught.value)


async def test_build_dispatcher_delivers_by_severity(make_alert: AlertFactory) -> None:
    posted: list[str] = []

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(request.url.host)
        return httpx.Response(200)

    parked: list[ParkedNotification] = []

    async def park(notification: ParkedNotification) -> None:
        parked.append(notification)

    buffer = io.StringIO()
    config = AlertsConfig.model_validate(DOCUMENT)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        dispatcher = build_dispatcher(
            config, client, ENV, park, console=Console(file=buffer, width=200)
        )
        medium = await dispatcher.dispatch(make_alert(severity=Severity.MEDIUM))
        high = await dispatcher.dispatch(make_alert(severity=Severity.HIGH))

    assert dispatcher.policy.max_attempts == 3
    assert [r.outcome for r in medium] == [Outcome.DELIVERED, Outcome.SKIPPED, Outcome.DELIVERED]
    assert [r.outcome for r in high] == [Outcome.DELIVERED] * 3
    assert sorted(posted) == ["hooks.slack.com", "soar.example.com", "soar.example.com"]
    assert buffer.getvalue().count("Failed logins burst") == 2
    assert parked == []
