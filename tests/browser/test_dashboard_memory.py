"""The dashboard in headless Chromium against the API app on a real uvicorn server, in-memory backends.

These need no broker; ``test_dashboard_worker.py`` runs the acknowledge flow
against a real ``auditwatch worker`` on Kafka. Screenshots: var/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageErrors, Shot
from tests.browser.memory_server import MemoryApi, make_alert, start_memory_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[MemoryApi]:
    with start_memory_api(tmp_path / "api.log") as server:
        yield server


def sign_in(page: Page, api: MemoryApi, token: str) -> None:
    page.goto(api.url + "/")
    page.fill("#token-input", token)
    page.click("#login-submit")


def test_wrong_token_is_refused_with_a_clear_error_and_a_viewer_gets_no_action_buttons(
    page: Page, api: MemoryApi, shot: Shot, page_errors: PageErrors
) -> None:
    alert = make_alert(1)
    api.add(alert)

    sign_in(page, api, "")  # anonymous access is off on this server
    error = page.locator("#login-error")
    expect(error).to_contain_text("needs a token: anonymous access is off")
    page.fill("#token-input", "awt_this-is-not-a-token")
    page.click("#login-submit")
    expect(error).to_be_visible()
    expect(error).to_contain_text("not accepted (401 Unauthorized)")
    expect(page.locator("#dashboard")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('auditwatch.token')") is None
    shot(page, "wrong-token")

    page.fill("#token-input", api.tokens["viewer"])
    page.click("#login-submit")
    expect(page.locator("#whoami-name")).to_have_text("viewer-1")
    expect(page.locator("#whoami-role")).to_have_text("viewer")
    expect(error).to_be_hidden()
    row = page.locator(f'tbody.alert[data-alert-id="{alert.id}"]')
    expect(row.locator(".entity")).to_have_text("actor.id=alice")
    expect(row.locator(".status")).to_have_text("firing")
    expect(page.locator("#alerts-table button")).to_have_count(1)  # only its evidence toggle
    expect(page.locator("#alerts-table :is(button.ack, button.resolve, button.silence)")).to_have_count(0)
    shot(page, "viewer")

    # The token survives a reload (sessionStorage), and logging out forgets it.
    page.reload()
    expect(page.locator("#whoami-name")).to_have_text("viewer-1")
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('auditwatch.token')") is None
    assert page_errors == []


XSS_TITLE = "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">"
XSS_ENTITY = "actor.id=<script>window.__pwned=2</script>"


def test_attacker_controlled_alert_text_is_shown_as_text_and_never_executed(
    page: Page, api: MemoryApi, shot: Shot, page_errors: PageErrors
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    evil = make_alert(
        2,
        title=XSS_TITLE,
        entity=XSS_ENTITY,
        evidence=(
            {
                "event_id": "e1",
                "actor": '<img src=y onerror="window.__pwned=3">',
                "ua": "<svg onload=alert(1)>",
            },
        ),
    )
    api.add(evil)
    sign_in(page, api, api.tokens["responder"])

    row = page.locator(f'tbody.alert[data-alert-id="{evil.id}"]')
    expect(row.locator(".alert-title")).to_have_text(XSS_TITLE)
    expect(row.locator(".entity")).to_have_text(XSS_ENTITY)
    row.locator("button.expand").click()
    expect(row.locator(".evidence-table")).to_contain_text('<img src=y onerror="window.__pwned=3">')
    row.locator("button.silence").click()
    expect(row.locator(".silence-form")).to_contain_text(XSS_ENTITY)
    page.wait_for_timeout(2500)  # a poll later, still nothing ran
    shot(page, "xss-as-text")

    assert page.evaluate("window.__pwned") is None
    assert page.title() == "auditwatch"
    assert page.locator("#alerts-table img, #alerts-table script, #alerts-table svg").count() == 0
    assert not [url for url in requests if re.search(r"/(x|y)$", url)], "the page fetched an <img> from data"
    assert page_errors == []


def test_trends_rules_health_and_access_review_render_with_data(
    page: Page, api: MemoryApi, shot: Shot, page_errors: PageErrors
) -> None:
    for n, (severity, rule, entity, hours) in enumerate(
        [
            ("high", "failed_login_burst", "actor.id=alice", 0),
            ("high", "failed_login_burst", "actor.id=alice", 1),
            ("critical", "root_console_login", "actor.id=root", 1),
            ("medium", "mfa_disabled", "actor.id=bob", 3),
            ("low", "failed_login_burst", "actor.id=carol", 5),
        ],
        start=10,
    ):
        api.add(make_alert(n, severity=severity, rule_id=rule, entity=entity, hours_ago=hours))
    sign_in(page, api, api.tokens["viewer"])
    expect(page.locator("tbody.alert")).to_have_count(5)

    # Trends: stacked bars per severity, rules, sources and entities, all from the API's data.
    severity_chart = page.locator("#chart-severity")
    for severity in ("critical", "high", "medium", "low"):
        expect(severity_chart.locator(f'rect.bar[data-key="{severity}"]').first).to_be_attached()
    expect(severity_chart.locator("rect.bar")).to_have_count(5)  # five (hour, severity) cells
    expect(page.locator("#chart-rules text.label")).to_have_text(
        ["failed_login_burst", "mfa_disabled", "root_console_login"]
    )
    expect(page.locator("#chart-sources text.label")).to_have_text(["okta", "cloudtrail", "github"])
    expect(page.locator("#chart-sources text.value")).to_have_text(["640", "410", "177"])
    expect(page.locator("#chart-entities text.label").first).to_have_text("actor.id=alice")

    # Rules: hit counts from the worker's counters, most matched first.
    burst = page.locator('#rules-body tr[data-rule-id="failed_login_burst"]')
    expect(burst.locator(".matches")).to_have_text("42")
    expect(burst.locator(".alerts")).to_have_text("3")
    expect(page.locator("#rules-body tr")).to_have_count(1)  # only rules hit, by default
    page.uncheck("#rules-hit-only")
    expect(page.locator("#rules-body tr")).to_have_count(2)
    expect(page.locator('#rules-body tr[data-rule-id="failed_login"] .matches')).to_have_text("0")
    expect(page.locator("#rules-shown")).to_have_text("2 of 2 rules shown.")

    # Health: totals, and the stalled partition highlighted.
    expect(page.locator("#stat-records-in")).to_have_text("1234")
    expect(page.locator("#stat-dlq")).to_have_text("7")
    expect(page.locator("#stat-dlq")).to_have_class("warn")
    expect(page.locator("#stat-parked")).to_have_text("2")
    stalled = page.locator("#partitions-body tr.stalled")
    expect(stalled).to_have_count(1)
    expect(stalled.locator(".lag")).to_have_text("950")
    expect(stalled).to_contain_text("STALLED")
    expect(page.locator('#checkpoint dd[data-key="origin"]')).to_have_text("auditwatch/test")
    expect(page.locator('#checkpoint dd[data-key="size"]')).to_have_text(str(api.checkpoint["size"]))
    expect(page.locator('#checkpoint dd[data-key="root"]')).to_have_text(api.checkpoint["root"])
    shot(page, "panels")

    # Access review tab: the principals observed, with what they used and were denied.
    page.click("#tab-access")
    alice = page.locator('#access-body tr[data-principal="alice"]')
    expect(alice.locator(".used li")).to_have_text(["s3:GetObject \u00d72"])
    expect(alice.locator(".denied li")).to_have_text(["iam:CreateUser \u00d71"])
    expect(alice.locator(".unused li")).to_have_text(["s3:PutObject"])
    carol = page.locator('#access-body tr[data-principal="carol"]')  # in the policy, never seen
    expect(carol).to_have_class("dormant")
    expect(carol).to_contain_text("not seen")
    expect(page.locator('#access-body tr[data-role="reader"] .proposed li')).to_have_text(["s3:GetObject"])
    expect(page.locator("#dashboard")).to_be_hidden()
    shot(page, "access-review")
    page.fill("#access-since", "nonsense")
    page.click("#access-form button")
    expect(page.locator("#access-error")).to_be_visible()
    assert page_errors == []


def test_responder_acknowledges_resolves_and_silences_and_each_is_in_the_audit_log(
    page: Page, api: MemoryApi, shot: Shot, page_errors: PageErrors
) -> None:
    sign_in(page, api, api.tokens["responder"])
    expect(page.locator("#whoami-role")).to_have_text("responder")
    expect(page.locator("#alerts-empty")).to_be_visible()
    shot(page, "empty")

    first, second = make_alert(21), make_alert(22, entity="actor.id=bob", severity="critical")
    api.add(first)
    api.add(second)
    row = page.locator(f'tbody.alert[data-alert-id="{first.id}"]')
    expect(row.locator(".status")).to_have_text("firing", timeout=10_000)  # the 2 s poll brings it
    shot(page, "alert-appeared")

    row.locator("button.ack").click()
    expect(row.locator(".status")).to_have_text("acknowledged")
    expect(row.locator("button.ack")).to_have_count(0)
    audit = page.locator('#audit-body tr[data-action="auditwatch.api.alerts.ack"]')
    expect(audit).to_have_count(1)
    expect(audit.locator(".actor")).to_have_text("responder-1")
    expect(audit.locator(".outcome")).to_have_text("success")
    expect(audit).to_contain_text(f"POST /api/v1/alerts/{first.id}/ack")
    shot(page, "acknowledged")

    # Resolve needs a comment: the form refuses an empty one, the API records the given one.
    row.locator("button.resolve").click()
    row.locator(".resolve-form button.confirm").click()
    expect(row.locator(".resolve-form .error")).to_contain_text("comment is required")
    row.locator(".resolve-form input.comment").fill("password reset, user confirmed")
    row.locator(".resolve-form button.confirm").click()
    expect(row.locator(".status")).to_have_text("resolved")
    row.locator("button.expand").click()
    expect(row.locator(".history")).to_contain_text("password reset, user confirmed")
    expect(page.locator('#audit-body tr[data-action="auditwatch.api.alerts.resolve"]')).to_have_count(1)

    other = page.locator(f'tbody.alert[data-alert-id="{second.id}"]')
    other.locator("button.silence").click()
    other.locator(".silence-form select.duration").select_option(label="4h")
    other.locator(".silence-form input.comment").fill("pentest of bob's account")
    other.locator(".silence-form button.confirm").click()
    expect(other.locator(".note")).to_contain_text("Silenced until")
    expect(page.locator('#audit-body tr[data-action="auditwatch.api.silences.create"]')).to_have_count(1)
    silence = page.locator("#silences-body tr.silence-active")
    expect(silence).to_have_count(1)
    expect(silence.locator("li")).to_have_text(['rule_id="failed_login_burst"', 'entity="actor.id=bob"'])
    expect(silence.locator(".by")).to_have_text("responder-1")  # the API names the caller
    expect(silence.locator(".comment")).to_have_text("pentest of bob's account")
    shot(page, "resolved-and-silenced")

    silence.locator("button.expire").click()
    expect(page.locator("#silences-body tr.silence-active")).to_have_count(0)
    expect(page.locator('#audit-body tr[data-action="auditwatch.api.silences.expire"]')).to_have_count(1)
    page.check("#silences-expired")
    expect(page.locator("#silences-body tr.silence-expired .state")).to_have_text("expired")
    assert page_errors == []


def test_an_admin_creates_a_token_shown_once_that_signs_in_and_then_revokes_it(
    page: Page, api: MemoryApi, shot: Shot, page_errors: PageErrors
) -> None:
    sign_in(page, api, api.tokens["responder"])
    expect(page.locator("#whoami-role")).to_have_text("responder")
    expect(page.locator("#tab-tokens")).to_be_hidden()
    page.click("#logout")

    page.fill("#token-input", api.tokens["admin"])
    page.click("#login-submit")
    page.click("#tab-tokens")
    expect(page.locator("#tokens-body tr")).to_have_count(3)  # the server's viewer, responder, admin
    page.fill("#new-token-name", "night-shift")
    page.select_option("#new-token-role", "viewer")
    page.click("#token-create")
    secret = page.locator("#new-token-secret").text_content()
    assert secret and secret.startswith("awt_")
    row = page.locator('#tokens-body tr[data-token-name="night-shift"]')
    expect(row.locator(".role")).to_have_text("viewer")
    assert secret not in page.locator("#tokens-table").inner_text()
    shot(page, "created")

    page.click("#logout")
    page.fill("#token-input", secret)
    page.click("#login-submit")
    expect(page.locator("#whoami-name")).to_have_text("night-shift")
    expect(page.locator("#whoami-role")).to_have_text("viewer")
    page.click("#logout")

    page.fill("#token-input", api.tokens["admin"])
    page.click("#login-submit")
    page.click("#tab-tokens")
    expect(page.locator("#new-token")).to_be_hidden()  # the secret is not shown twice
    row.locator("button.revoke").click()
    expect(row).to_have_count(0)
    page.click("#logout")
    page.fill("#token-input", secret)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("not accepted")
    shot(page, "revoked-token-refused")
    assert page_errors == []


def test_with_anonymous_access_on_an_empty_token_signs_in_as_an_anonymous_viewer(
    page: Page, tmp_path: Path, shot: Shot, page_errors: PageErrors
) -> None:
    with start_memory_api(tmp_path / "api.log", anonymous=True) as api:
        api.add(make_alert(31))
        sign_in(page, api, "")
        expect(page.locator("#whoami-name")).to_have_text("anonymous")
        expect(page.locator("#whoami-role")).to_have_text("viewer")
        expect(page.locator("tbody.alert")).to_have_count(1)
        expect(page.locator("#alerts-table :is(button.ack, button.resolve, button.silence)")).to_have_count(0)
        shot(page, "anonymous")
    assert page_errors == []
