"""Alerts through the API: filters, acknowledge, resolve with a comment, and what is written durably."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.api.alertbook import AlertBook, AlertState
from pipeline.errors import PipelineError
from tests.api.conftest import Api, sample_alert


async def test_list_newest_first_with_filters(api: Api) -> None:
    api.backend.book.add(sample_alert(1, rule="a", severity="high"))
    api.backend.book.add(sample_alert(2, rule="b", severity="low"))
    api.backend.book.add(sample_alert(3, rule="a", severity="low"))
    viewer = api.auth("viewer")

    async def ids(query: str) -> list[int]:
        answer = await api.client.get(f"/api/v1/alerts{query}", headers=viewer)
        assert answer.status_code == 200, answer.text
        return [int(r["alert"]["id"], 16) for r in answer.json()["alerts"]]

    assert await ids("") == [3, 2, 1]
    assert await ids("?rule=a") == [3, 1]
    assert await ids("?severity=low") == [3, 2]
    assert await ids("?entity=actor.id=user2") == [2]
    assert await ids("?limit=1") == [3]
    assert await ids("?status=acknowledged") == []
    bad = await api.client.get("/api/v1/alerts?status=gone", headers=viewer)
    assert bad.status_code == 422


async def test_ack_then_resolve_records_who_when_and_why(api: Api) -> None:
    written: list[AlertState] = []

    async def write(state: AlertState) -> None:
        written.append(state)

    api.backend.write_state = write
    alert = sample_alert(7)
    api.backend.book.add(alert, received=datetime(2026, 11, 28, 9, 40, tzinfo=UTC))
    responder = api.auth("responder")
    acked = await api.client.post(
        f"/api/v1/alerts/{alert.id}/ack", headers=responder, json={"comment": "looking"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["alert"] == alert.model_dump(mode="json")
    again = await api.client.post(f"/api/v1/alerts/{alert.id}/ack", headers=responder)
    assert again.status_code == 409

    no_reason = await api.client.post(
        f"/api/v1/alerts/{alert.id}/resolve", headers=responder, json={"comment": " "}
    )
    assert no_reason.status_code == 422
    resolved = await api.client.post(
        f"/api/v1/alerts/{alert.id}/resolve", headers=responder, json={"comment": "password reset"}
    )
    assert resolved.status_code == 200
    assert resolved.json()["history"] == [
        {"status": "firing", "by": "auditwatch", "comment": None, "at": "2026-11-28T09:40:00Z"},
        {"status": "acknowledged", "by": "responder-1", "comment": "looking", "at": "2026-11-28T10:00:00Z"},
        {
            "status": "resolved",
            "by": "responder-1",
            "comment": "password reset",
            "at": "2026-11-28T10:00:00Z",
        },
    ]
    assert [s.status for s in written] == ["acknowledged", "resolved"]
    api.backend.book.add(sample_alert(8))
    by_status = {
        status: [
            r["alert"]["id"]
            for r in (await api.client.get(f"/api/v1/alerts?status={status}", headers=responder)).json()[
                "alerts"
            ]
        ]
        for status in ("firing", "acknowledged", "resolved")
    }
    assert by_status == {"firing": [sample_alert(8).id], "acknowledged": [], "resolved": [alert.id]}
    fetched = await api.client.get(f"/api/v1/alerts/{alert.id}", headers=api.auth("viewer"))
    assert fetched.json() == resolved.json()
    missing = await api.client.post("/api/v1/alerts/ffff/ack", headers=responder)
    assert missing.status_code == 404


async def test_a_failed_durable_write_changes_nothing(api: Api) -> None:
    async def broken(state: AlertState) -> None:
        raise PipelineError("cannot store the change in Kafka")

    api.backend.write_state = broken
    alert = sample_alert(1)
    api.backend.book.add(alert)
    answer = await api.client.post(f"/api/v1/alerts/{alert.id}/ack", headers=api.auth("admin"))
    assert answer.status_code == 503 and "cannot store" in answer.text
    entry = api.backend.book.get(alert.id)
    assert entry is not None and entry.status == "firing"
    assert api.emitted[-1].extra["http"]["status"] == 503  # audited all the same


def test_a_state_read_back_before_its_alert_applies_when_the_alert_arrives() -> None:
    book = AlertBook()
    alert = sample_alert(4)
    book.apply(AlertState(alert_id=alert.id, status="acknowledged"))
    assert book.get(alert.id) is None
    book.add(alert)
    entry = book.get(alert.id)
    assert entry is not None and entry.status == "acknowledged"


def test_the_book_keeps_the_newest_alerts_only() -> None:
    book = AlertBook(capacity=3)
    for number in range(1, 6):
        book.add(sample_alert(number), received=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=number))
    book.add(sample_alert(5))  # a redelivery changes nothing
    assert [int(e.alert.id, 16) for e in book.entries()] == [5, 4, 3] and len(book) == 3


async def test_silences_created_listed_and_expired(api: Api) -> None:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    body = {
        "matchers": ['entity="actor.id=alice"'],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=2)).isoformat(),
        "comment": "pentest",
    }
    created = await api.client.post("/api/v1/silences", headers=api.auth("responder"), json=body)
    assert created.status_code == 200, created.text
    silence_id = created.json()["silenceID"]
    listed = (await api.client.get("/api/v1/silences", headers=api.auth("viewer"))).json()["silences"]
    assert [(s["id"], s["createdBy"], s["status"]["state"]) for s in listed] == [
        (silence_id, "responder-1", "active")
    ]
    refused = await api.client.post(
        "/api/v1/silences", headers=api.auth("responder"), json={**body, "endsAt": "tomorrow"}
    )
    assert refused.status_code == 400
    expired = await api.client.delete(f"/api/v1/silences/{silence_id}", headers=api.auth("responder"))
    assert expired.json()["status"]["state"] == "expired"
