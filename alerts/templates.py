"""Templates for notification titles and texts: jinja2, sandboxed, checked at load.

A template is rendered in jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment`
(no access to Python internals, whatever the config says), with
:class:`~jinja2.StrictUndefined`: a misspelt variable is an error. Every
template is rendered once against a sample notification when the router config
is loaded, so the error shows at start-up with its file and line, not in the
middle of the night. Labels are the exception: a label an alert does not have
is the empty string, as in matchers, so ``{{ common_labels.team }}`` is
always safe.

The variables, named as in Alertmanager's template data:

==========================  ===============================================
``status``                  ``firing`` or ``resolved``
``receiver``                the receiver's name
``group_key``               the aggregation group's key
``group_labels``            the labels the group is grouped by
``common_labels``           labels every alert of the notification shares
``common_annotations``      annotations (title, summary, ...) all share
``external_url``            the router config's ``external_url``
``alerts``                  every alert; ``firing`` and ``resolved`` split them
==========================  ===============================================

Each alert has ``status``, ``labels``, ``annotations``, ``starts_at``,
``ends_at``, ``fingerprint``, and the auditwatch alert's own fields:
``title``, ``summary``, ``description``, ``severity``, ``rule_id``,
``entity``, ``count``, ``threshold``, ``first_seen``, ``last_seen``,
``tenant_id``, ``tags``, ``event_ids`` and ``evidence``.

>>> render(compile_template("{{ alerts|length }} alert(s) for {{ group_labels.team }}"),
...        sample_notification())
'1 alert(s) for '
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from alerts.model import Alert
from alerts.notification import AlertState, Notification, alert_annotations, routing_labels
from detectors.findings import Severity

__all__ = [
    "Labels",
    "Template",
    "TemplateAlert",
    "check_template",
    "compile_template",
    "render",
    "sample_notification",
    "template_context",
]

MAX_TEMPLATE_CHARS = 10_000

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class Labels(dict[str, str]):
    """A label set in templates: a missing label is the empty string."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class TemplateAlert:
    """One alert as templates see it; see the module docstring."""

    status: str
    labels: Labels
    annotations: Labels
    starts_at: datetime
    ends_at: datetime
    fingerprint: str
    title: str
    summary: str
    description: str
    severity: str
    rule_id: str
    entity: str
    count: int
    threshold: str
    first_seen: datetime
    last_seen: datetime
    tenant_id: str
    tags: tuple[str, ...]
    event_ids: tuple[str, ...]
    evidence: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, state: AlertState, now: datetime) -> TemplateAlert:
        alert = state.alert
        return cls(
            status=state.status(now),
            labels=Labels(state.labels),
            annotations=Labels(alert_annotations(alert)),
            starts_at=state.starts_at,
            ends_at=state.ends_at,
            fingerprint=alert.id,
            title=alert.title,
            summary=alert.summary,
            description=alert.description or "",
            severity=alert.severity.label,
            rule_id=alert.rule_id,
            entity=alert.entity,
            count=alert.count,
            threshold=alert.threshold or "",
            first_seen=alert.first_seen,
            last_seen=alert.last_seen,
            tenant_id=alert.tenant_id,
            tags=alert.tags,
            event_ids=alert.event_ids,
            evidence=alert.evidence,
        )


@dataclass(frozen=True)
class Template:
    """A compiled template and its source, for error messages."""

    source: str
    compiled: Any


def compile_template(source: str) -> Template:
    """Compile ``source``; raises ``ValueError`` saying what is wrong with it."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"the template is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        return Template(source, _ENV.from_string(source))
    except TemplateSyntaxError as exc:
        raise ValueError(f"template syntax error (template line {exc.lineno}): {exc.message}") from None
    except TemplateError as exc:
        raise ValueError(f"template error: {exc.message}") from None


def template_context(notification: Notification) -> dict[str, Any]:
    """The variables a template sees for ``notification``."""
    now = notification.now
    alerts = [TemplateAlert.of(state, now) for state in notification.alerts]
    return {
        "status": notification.status,
        "receiver": notification.receiver,
        "group_key": notification.group_key,
        "group_labels": Labels(notification.group_labels),
        "common_labels": Labels(notification.common_labels),
        "common_annotations": Labels(notification.common_annotations),
        "external_url": notification.external_url,
        "alerts": alerts,
        "firing": [a for a in alerts if a.status == "firing"],
        "resolved": [a for a in alerts if a.status == "resolved"],
    }


def render(template: Template, notification: Notification | Mapping[str, Any]) -> str:
    """Render for one notification (or a ready context); raises ``ValueError`` on failure."""
    context = template_context(notification) if isinstance(notification, Notification) else dict(notification)
    try:
        return str(template.compiled.render(context))
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from None
    except Exception as exc:  # a filter applied to the wrong type, a division by zero, ...
        raise ValueError(f"template error: {type(exc).__name__}: {exc}") from None


def check_template(source: str) -> str:
    """``source`` if it compiles and renders for a sample notification; else ``ValueError``.

    This is the check the router config runs at load time.
    """
    template = compile_template(source)
    render(template, sample_notification())
    return source


def sample_notification() -> Notification:
    """A notification with every field set, used to check templates at load time."""
    start = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    alert = Alert(
        id="0" * 32,
        rule_id="sample_rule",
        severity=Severity.HIGH,
        title="Sample alert",
        summary="5 failed login events by actor.id=alice",
        description="A sample used to check templates.",
        entity="actor.id=alice",
        group={"actor.id": "alice"},
        count=5,
        threshold=">= 5 in 60s",
        first_seen=start,
        last_seen=start + timedelta(seconds=40),
        window_start=start,
        window_end=start + timedelta(seconds=60),
        event_ids=("evt-1",),
        evidence=({"event_id": "evt-1", "time": start.isoformat(), "actor": "alice"},),
        labels={"alertname": "sample_rule", "severity": "high", "tenant": "default"},
        tags=("attack.t1110",),
    )
    state = AlertState(
        alert=alert,
        labels=routing_labels(alert),
        starts_at=start,
        ends_at=start + timedelta(minutes=5),
        updated_at=start,
    )
    return Notification(
        id="ntf_sample",
        group_id="{}:{}",
        group_key="{}:{}",
        receiver="sample",
        integration="sample/webhook/0",
        group_labels={"alertname": "sample_rule"},
        alerts=(state,),
        now=start,
    )
