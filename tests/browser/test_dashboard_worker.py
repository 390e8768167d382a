"""The dashboard served by a real ``auditwatch worker`` on the real broker, in headless Chromium.

The alert is seeded the way production makes one: failed logins produced to
the raw topic fire the shipped ``failed_login_burst`` rule. The responder
acknowledges it in the page, and the acknowledgement is then found twice: in
the page's Audit log panel and, as a canonical audit event, on the worker's
own raw topic. Screenshots: var/screenshots/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageErrors, Shot, off_loop
from tests.integration.conftest import Topics, Worker, produce, read_topic
from tests.integration.test_api_worker import api_worker
from tests.integration.test_worker import failed_login

pytestmark = pytest.mark.kafka

EVIL_ACTOR = '<img src=x onerror="window.__pwned=1">'


def failed_login_now(actor: str, n: int) -> bytes:
    """tests/integration's failed login, happening now (so its alert lands in the trends window)."""
    event = json.loads(failed_login(actor, n))
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30 + n))
    return json.dumps(event).encode()


def api_events(bootstrap: str, topic: str, action: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The API audit events named ``action`` on the raw topic, once there is at least one."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        for record in off_loop(read_topic, bootstrap, topic, 1_000_000, 3.0):
            try:
                event = json.loads(record.value)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("action") == action:
                found.append(event)
    return found


def test_a_responder_acknowledges_a_rule_alert_from_a_real_worker_and_the_ack_is_an_audit_event(
    make_worker: Callable[..., Worker],
    topics: Topics,
    kafka_bootstrap: str,
    tmp_path: Path,
    page: Page,
    shot: Shot,
    page_errors: PageErrors,
) -> None:
    worker, url, tokens = off_loop(api_worker, make_worker, tmp_path)
    responder = tokens["responder"]

    page.goto(url + "/")
    page.fill("#token-input", "awt_wrong")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("not accepted")
    page.fill("#token-input", responder)
    page.click("#login-submit")
    expect(page.locator("#whoami-name")).to_have_text("responder-bot")
    shot(page, "signed-in")

    logins = [failed_login_now("alice", n) for n in range(5)] + [
        failed_login_now(EVIL_ACTOR, n) for n in range(5)
    ]
    off_loop(produce, kafka_bootstrap, topics.raw, logins)
    row = page.locator("tbody.alert").filter(has=page.locator("td.entity", has_text="actor.id=alice"))
    try:
        expect(row.locator(".status")).to_have_text("firing", timeout=90_000)
    except AssertionError:
        raise AssertionError(f"no alert reached the page\n{worker.log()[-4000:]}") from None
    expect(row.locator(".alert-title")).to_contain_text("actor.id=alice")
    expect(row.locator(".count")).to_have_text("5")
    evil = page.locator("tbody.alert").filter(has=page.locator("td.entity", has_text=EVIL_ACTOR))
    expect(evil.locator(".entity")).to_have_text(f"actor.id={EVIL_ACTOR}", timeout=30_000)
    shot(page, "alert-appeared")

    row.locator("button.ack").click()
    expect(row.locator(".status")).to_have_text("acknowledged")
    audit = page.locator('#audit-body tr[data-action="auditwatch.api.alerts.ack"]')
    expect(audit).to_have_count(1)
    expect(audit.locator(".actor")).to_have_text("responder-bot")
    expect(audit.locator(".outcome")).to_have_text("success")
    shot(page, "acknowledged")

    alert_id = row.get_attribute("data-alert-id")
    acks = api_events(kafka_bootstrap, topics.raw, "auditwatch.api.alerts.ack")
    assert len(acks) == 1, f"the acknowledgement is not on {topics.raw}\n{worker.log()[-4000:]}"
    ack = acks[0]
    assert ack["actor"]["id"] == "responder-bot"
    assert ack["outcome"] == "success"
    assert ack["source"]["ip"] == "127.0.0.1"
    assert ack["extra"]["http"]["method"] == "POST"
    assert ack["extra"]["http"]["path"] == f"/api/v1/alerts/{alert_id}/ack"
    denied = api_events(kafka_bootstrap, topics.raw, "auditwatch.api.whoami")
    assert any(e["outcome"] == "failure" and e["actor"]["id"] == "anonymous" for e in denied), denied

    # The panels, from this worker's own counters.
    burst = page.locator('#rules-body tr[data-rule-id="failed_login_burst"]')
    expect(burst.locator(".alerts")).not_to_have_text("0", timeout=15_000)
    expect(page.locator('#chart-severity rect.bar[data-key="high"]').first).to_be_attached()
    expect(page.locator("#chart-sources text.label", has_text="acme.sso")).to_have_count(1)
    expect(page.locator("#partitions-body tr").first).to_be_attached()
    expect(page.locator("#stat-records-in")).not_to_have_text("0")
    shot(page, "panels")

    assert page.evaluate("window.__pwned") is None
    assert page.locator("#alerts-table img").count() == 0
    assert page_errors == []
    assert worker.alive()

    # The worker goes away: the page says so instead of showing stale data silently.
    worker.stop()
    expect(page.locator("#alerts-error")).to_contain_text("the API is unreachable", timeout=10_000)
    shot(page, "worker-stopped")
