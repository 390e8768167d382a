"""Slack Block Kit messages within every documented limit, and the console rendering."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rich.console import Console

from alerts.model import Alert
from alerts.sinks import ConsoleSink, SlackSink, slack_message
from alerts.sinks.slack import (
    MAX_BLOCKS,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_TEXT,
)
from detectors.findings import Severity

AlertFactory = Callable[..., Alert]
Sample = Callable[[int], dict[str, Any]]


def _oversize(make_alert: AlertFactory, login_sample: Sample) -> Alert:
    """An alert with every piece of text far over Slack's limits."""
    huge = make_alert(
        rule_title="T" * 1000,
        description="<!channel> & " * 2000,
        group={"actor.id": "a&b<c>" * 1000},
        threshold=">= 5 in 60s " * 500,
        evidence=tuple(
            {**login_sample(i), "reason": f"reason {i} " + "&" * 2000} for i in range(200)
        ),
        tags=tuple(f"tag-{i}" * 50 for i in range(200)),
    )
    # A finding's summary is generated; an alert's may come from anywhere.
    return huge.model_copy(update={"summary": "S" * 10_000})


def _texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of a message's blocks."""
    out: list[str] = []
    for block in message["blocks"]:
        if "text" in block and block["text"]["type"] == "mrkdwn":
            out.append(block["text"]["text"])
        out.extend(field["text"] for field in block.get("fields", []))
        out.extend(element["text"] for element in block.get("elements", []))
    return out


def test_oversize_alert_fits_every_documented_limit(
    make_alert: AlertFactory, login_sample: Sample
) -> None:
    message = slack_message(_oversize(make_alert, login_sample), max_evidence=200)
    # It survives a round trip through JSON, as it is posted.
    message = json.loads(json.dumps(message))
    blocks = message["blocks"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        by_type.setdefault(block["type"], []).append(block)

    assert len(blocks) <= MAX_BLOCKS
    assert 0 < len(message["text"]) <= MAX_TEXT
    (header,) = by_type["header"]
    assert header["text"]["type"] == "plain_text"
    assert 0 < len(header["text"]["text"]) <= MAX_HEADER_TEXT
    for section in by_type["section"]:
        if "text" in section:
            assert 0 < len(section["text"]["text"]) <= MAX_SECTION_TEXT
        if "fields" in section:
            assert 0 < len(section["fields"]) <= MAX_FIELDS
            for field in section["fields"]:
                assert 0 < len(field["text"]) <= MAX_FIELD_TEXT
    for context in by_type["context"]:
        assert 0 < len(context["elements"]) <= MAX_CONTEXT_ELEMENTS
        for element in context["elements"]:
            assert 0 < len(element["text"]) <= MAX_SECTION_TEXT
    # Every mrkdwn text is escaped, and cutting never splits an escaped entity.
    for text in [*_texts(message), message["text"]]:
        assert "<" not in text
        assert ">" not in text
        assert re.search(r"&(?!amp;|lt;|gt;)", text) is None
    assert message["text"].endswith("…")


def test_oversize_evidence_is_listed_in_part_and_says_so(
    make_alert: AlertFactory, login_sample: Sample
) -> None:
    message = slack_message(_oversize(make_alert, login_sample), max_evidence=200)
    evidence = next(t for t in _texts(message) if t.startswith("*Evidence*"))
    shown = evidence.count("\n• ")

    assert 0 < shown < 200
    assert evidence.startswith(f"*Evidence* ({shown} of 200 samples)")


def test_evidence_is_capped_by_max_evidence(make_alert: AlertFactory) -> None:
    message = slack_message(make_alert(), max_evidence=3)
    evidence = next(t for t in _texts(message) if t.startswith("*Evidence*"))

    assert evidence.startswith("*Evidence* (3 of 5 samples)")
    assert evidence.count("\n• ") == 3
    assert "[evt-0]" in evidence


def test_alert_text_is_escaped_so_it_cannot_ping_or_link(make_alert: AlertFactory) -> None:
    alert = make_alert(group={"actor.id": "<!channel> <https://evil.example|click> & co"})
    message = slack_message(alert)
    escaped = "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co"

    for text in [*_texts(message), message["text"]]:
        assert "<!channel>" not in text
        assert "<https://evil" not in text
    assert escaped in message["text"]
    assert any(escaped in text for text in _texts(message))
    # A header is plain text, which Slack shows as written and never parses.
    assert message["blocks"][0]["text"]["type"] == "plain_text"


def test_message_reads_well_for_a_normal_alert(make_alert: AlertFactory) -> None:
    alert = make_alert()
    message = slack_message(alert)
    header = message["blocks"][0]["text"]["text"]
    fields = {
        f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message["blocks"][2]["fields"]
    }

    assert header == ":red_circle: Failed logins burst: actor.id=alice"
    assert message["blocks"][1]["text"]["text"] == alert.summary.replace(">", "&gt;")
    assert fields["*Who*"] == "actor.id=alice"
    assert fields["*How many*"] == "5 (&gt;= 5 in 60s)"
    assert fields["*First seen*"] == "2024-05-01 10:00:01 UTC"
    assert message["text"].startswith(":red_circle: HIGH: Failed logins burst")
    assert alert.id in json.dumps(message["blocks"][-1])


async def test_slack_sink_posts_the_message(make_alert: AlertFactory) -> None:
    alert = make_alert()
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        url = "https://hooks.slack.com/services/T0/B0/XXXXXXXX"
        sink = SlackSink("slack", url, client)
        result = await sink.send(alert)

    assert result.ok
    assert json.loads(seen[0].content) == slack_message(alert)
    assert "XXXXXXXX" not in repr(sink)


async def test_slack_sink_reports_slack_errors(make_alert: AlertFactory) -> None:
    def receive(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="no_service")

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        result = await SlackSink("slack", "https://hooks.slack.com/x", client).send(make_alert())

    assert not result.ok
    assert not result.retryable
    assert "no_service" in result.detail


async def test_console_prints_severity_title_summary_and_evidence(
    make_alert: AlertFactory,
) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    alert = make_alert(description="[bold]not markup[/]", severity=Severity.CRITICAL)

    result = await ConsoleSink(console=console).send(alert)
    out = buffer.getvalue()

    assert result.ok
    assert "CRITICAL" in out
    assert "Failed logins burst: actor.id=alice" in out
    assert alert.summary in out
    assert "[bold]not markup[/]" in out
    assert "evidence (5 of 5 samples)" in out
    assert "user.session.start failure from 203.0.113.7 via okta [evt-4]" in out


@pytest.mark.parametrize("max_evidence", [0, 2])
async def test_console_caps_evidence(make_alert: AlertFactory, max_evidence: int) -> None:
    buffer = io.StringIO()
    sink = ConsoleSink(console=Console(file=buffer, width=200), max_evidence=max_evidence)

    await sink.send(make_alert())

    assert buffer.getvalue().count("[evt-") == max_evidence
