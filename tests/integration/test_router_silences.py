"""Silences through a worker's HTTP API, stored in the real compacted topic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
from aiohttp.test_utils import TestServer

from alerts.router.silence import Silence, Silences
from pipeline.config import AuditwatchConfig
from pipeline.silence_api import silence_api
from pipeline.silences import read_silences, write_silences
from tests.integration.conftest import Topics


async def test_add_list_and_expire_through_the_api_persist_in_kafka(
    kafka_bootstrap: str, topics: Topics
) -> None:
    config = AuditwatchConfig.model_validate(
        {"kafka": {"bootstrap": kafka_bootstrap, "partitions": 1}, "topics": {"prefix": topics.prefix}}
    )
    store = Silences()

    async def write(items: Iterable[Silence]) -> None:
        await write_silences(config, items)

    now = datetime.now(UTC)
    server = TestServer(silence_api(store, write), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url(""))) as client:
            created = await client.post(
                "/api/v2/silences",
                json={
                    "matchers": [
                        {"name": "entity", "value": "actor.id=alice", "isRegex": False, "isEqual": True}
                    ],
                    "startsAt": now.isoformat(),
                    "endsAt": (now + timedelta(hours=1)).isoformat(),
                    "createdBy": "oncall",
                    "comment": "pentest",
                },
            )
            assert created.status_code == 200, created.text
            silence_id = created.json()["silenceID"]
            refused = await client.post("/api/v2/silences", json={"matchers": ['team=~".*"']})
            assert refused.status_code == 400
            listed = (await client.get("/api/v2/silences")).json()
            assert [(s["id"], s["status"]["state"], s["matchers"]) for s in listed] == [
                (silence_id, "active", ['entity="actor.id=alice"'])
            ]
            expired = await client.delete(f"/api/v2/silence/{silence_id}")
            assert expired.json()["status"]["state"] == "expired"
            assert (await client.delete("/api/v2/silence/nope")).status_code == 404
    finally:
        await server.close()

    stored = (await read_silences(config)).get(silence_id)
    assert stored is not None and stored.state(datetime.now(UTC)) == "expired"
    assert stored.created_by == "oncall" and stored.comment == "pentest"
