"""Every endpoint, with each role, no token and a wrong token: allowed or 401/403, and audited either way.

The table below is the contract's (endpoint, least role). It is checked
against the app's routes, so an endpoint added without an entry here fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from pipeline.api.roles import Role
from tests.api.conftest import CLIENT_IP, Api, make_api, sample_alert

PUBLIC = None
MINIMUM: dict[tuple[str, str], Role | None] = {
    ("GET", "/api/v1/livez"): PUBLIC,
    ("GET", "/api/v1/whoami"): Role.VIEWER,
    ("GET", "/api/v1/alerts"): Role.VIEWER,
    ("GET", "/api/v1/alerts/{alert_id}"): Role.VIEWER,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): Role.RESPONDER,
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): Role.RESPONDER,
    ("GET", "/api/v1/silences"): Role.VIEWER,
    ("POST", "/api/v1/silences"): Role.RESPONDER,
    ("DELETE", "/api/v1/silences/{silence_id}"): Role.RESPONDER,
    ("GET", "/api/v1/rules"): Role.VIEWER,
    ("GET", "/api/v1/trends"): Role.VIEWER,
    ("GET", "/api/v1/health"): Role.VIEWER,
    ("GET", "/api/v1/archive/checkpoints"): Role.VIEWER,
    ("GET", "/api/v1/archive/proof/{event_id}"): Role.VIEWER,
    ("GET", "/api/v1/access/review"): Role.VIEWER,
    ("GET", "/api/v1/audit"): Role.VIEWER,
    ("GET", "/api/v1/tokens"): Role.ADMIN,
    ("POST", "/api/v1/tokens"): Role.ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): Role.ADMIN,
    ("GET", "/metrics"): Role.VIEWER,
}

CALLERS = ["none", "wrong", "viewer", "responder", "admin"]


def _body(method: str, path: str) -> Any:
    now = datetime.now(UTC)
    if path.endswith("/resolve"):
        return {"comment": "fixed"}
    if path.endswith("/ack"):
        return {"comment": "on it"}
    if path == "/api/v1/silences" and method == "POST":
        return {
            "matchers": [{"name": "entity", "value": "actor.id=eve", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "comment": "maintenance",
        }
    if path == "/api/v1/tokens" and method == "POST":
        return {"role": "viewer", "name": "new-token"}
    return None


def _routes(api: Api) -> dict[tuple[str, str], APIRoute]:
    found: dict[tuple[str, str], APIRoute] = {}
    for route in api.app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                found[(method, route.path)] = route
    return found


async def test_the_table_covers_every_route(api: Api) -> None:
    assert set(_routes(api)) == set(MINIMUM)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), sorted(MINIMUM))
async def test_each_endpoint_with_each_caller(method: str, path: str, caller: str) -> None:
    api, client = await make_api()
    async with client:
        api.backend.book.add(sample_alert(1))
        route = _routes(api)[(method, path)]
        url = path.format(alert_id=f"{1:032x}", silence_id="s-unknown", event_id="e-1", token_id="t-unknown")
        headers = {"none": {}, "wrong": {"Authorization": "Bearer awt_not-a-token"}}.get(caller)
        if headers is None:
            headers = api.auth(caller)
        answer = await client.request(method, url, headers=headers, json=_body(method, path))

        least = MINIMUM[(method, path)]
        if least is None:
            assert answer.status_code == 200
            assert api.emitted == []  # the liveness probe is not audited
            return
        if caller in ("none", "wrong"):
            expected_status: int | None = 401
            assert answer.headers["www-authenticate"] == "Bearer"
        elif not Role.parse(caller).allows(least):
            expected_status = 403
        else:
            expected_status = None
        if expected_status is not None:
            assert answer.status_code == expected_status, answer.text
        else:
            assert answer.status_code not in (401, 403) and answer.status_code < 500, answer.text

        assert len(api.emitted) == 1, "each call is exactly one audit event"
        event = api.emitted[0]
        assert event.action == f"auditwatch.api.{route.name}"
        http = event.extra["http"]
        assert (http["method"], http["path"], http["status"]) == (method, url, answer.status_code)
        assert set(http["path_params"]) == set(route.param_convertors or {})
        assert str(event.source.ip) == CLIENT_IP
        assert event.origin.system == "auditwatch"
        if expected_status is None:
            assert event.actor.id == f"{caller}-1" and event.actor.roles == (caller,)
            token = next(t for t in api.tokens.list() if t.name == f"{caller}-1")
            assert event.actor.authenticated_as == f"token:{token.id}"
            assert event.extra["denied"] is False
        else:
            assert event.outcome == "failure" and event.extra["denied"] is True
            assert event.category == ("authentication" if expected_status == 401 else "authorization")
            assert event.actor.id == ("anonymous" if expected_status == 401 else f"{caller}-1")
        listed = (await client.get("/api/v1/audit", headers=api.auth("viewer"))).json()["events"]
        assert listed[0]["event_id"] == event.event_id  # the listing's own event comes after its answer


async def test_anonymous_access_when_enabled_is_a_viewer_and_a_wrong_token_is_still_refused() -> None:
    api, client = await make_api(anonymous=True)
    async with client:
        me = await client.get("/api/v1/whoami")
        assert me.status_code == 200 and me.json() == {"id": None, "name": "anonymous", "role": "viewer"}
        assert (await client.post("/api/v1/alerts/x/ack", json={})).status_code == 403
        for wrong in ("Bearer nope", "Basic YTpi"):
            answer = await client.get("/api/v1/whoami", headers={"Authorization": wrong})
            assert answer.status_code == 401
        assert [e.outcome.value for e in api.emitted] == ["success", "failure", "failure", "failure"]


async def test_public_documents_need_no_token_and_are_not_audited(api: Api) -> None:
    assert (await api.client.get("/openapi.json")).status_code == 200
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    # The docs page works offline: its script and style come from this server, not a CDN.
    assert "https://" not in docs.text and "/docs/assets/swagger-ui-bundle.js" in docs.text
    script = await api.client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    page = await api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (await api.client.get("/static/app.js")).status_code == 200
    assert api.emitted == []


async def test_an_unknown_path_is_audited_and_attributed_to_the_token(api: Api) -> None:
    answer = await api.client.get("/api/v1/nothing-here", headers=api.auth("viewer"))
    assert answer.status_code == 404
    assert [(e.action, e.actor.id) for e in api.emitted] == [("auditwatch.api.unknown", "viewer-1")]
