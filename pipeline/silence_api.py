"""The silences HTTP API of a worker, on 127.0.0.1 only (``alerts.silences_api_port``).

Alertmanager's v2 paths and field names, so its users' scripts carry over::

    GET    /api/v2/silences             every silence, newest first, with status.state
    POST   /api/v2/silences             create one; answers {"silenceID": "..."}
    DELETE /api/v2/silence/{id}         expire one now

A silence is posted as Alertmanager writes it (``matchers`` as
``{"name", "value", "isRegex", "isEqual"}`` objects) or with matchers as
text (``["entity=\\"actor.id=alice\\""]``), with ``startsAt``, ``endsAt``,
``createdBy`` and ``comment``. It is written to the compacted silences topic,
so every worker applies it; reads come from this worker's copy of that topic.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from alerts.router.matchers import Matcher, MatchType
from alerts.router.silence import Silence, Silences, new_silence

__all__ = ["parse_silence", "silence_api", "silence_document"]

Write = Callable[[Iterable[Silence]], Awaitable[None]]


def silence_document(silence: Silence, now: datetime) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": silence.matchers,
        "startsAt": silence.starts_at.isoformat(),
        "endsAt": silence.ends_at.isoformat(),
        "updatedAt": silence.updated_at.isoformat(),
        "createdBy": silence.created_by,
        "comment": silence.comment,
        "status": {"state": silence.state(now)},
    }


def _matcher_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and "name" in item and "value" in item:
        regex, equal = bool(item.get("isRegex")), bool(item.get("isEqual", True))
        kind = {
            (False, True): MatchType.EQUAL,
            (False, False): MatchType.NOT_EQUAL,
            (True, True): MatchType.REGEX,
            (True, False): MatchType.NOT_REGEX,
        }[(regex, equal)]
        return str(Matcher(str(item["name"]), kind, str(item["value"])))
    raise ValueError(f"{item!r} is not a matcher; give text or {{name, value, isRegex, isEqual}}")


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} is required, as 2024-05-01T10:00:00Z")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{name} needs a time zone")
    return moment


def parse_silence(body: Any, now: datetime) -> Silence:
    """A new silence from an Alertmanager v2 body; ``ValueError`` says what is wrong with it.

    Shared with the authenticated API (``pipeline.api``), so both accept the same bodies.
    """
    if not isinstance(body, dict):
        raise ValueError("send one silence as a JSON object")
    try:
        return new_silence(
            [_matcher_text(item) for item in body.get("matchers") or []],
            _time(body.get("startsAt"), "startsAt"),
            _time(body.get("endsAt"), "endsAt"),
            str(body.get("createdBy") or ""),
            str(body.get("comment") or ""),
            now=now,
        )
    except ValidationError as exc:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def silence_api(
    silences: Silences, write: Write, clock: Callable[[], datetime] | None = None
) -> web.Application:
    """The API over a worker's silence store; ``write`` stores changes durably."""
    now = clock or (lambda: datetime.now(UTC))
    routes = web.RouteTableDef()

    @routes.get("/api/v2/silences")
    async def list_silences(request: web.Request) -> web.Response:
        moment = now()
        items = sorted(silences.all(), key=lambda s: s.updated_at, reverse=True)
        return web.json_response([silence_document(s, moment) for s in items])

    @routes.post("/api/v2/silences")
    async def add(request: web.Request) -> web.Response:
        try:
            silence = parse_silence(await request.json(), now())
        except (ValueError, json.JSONDecodeError) as exc:
            return _error(400, str(exc))
        await write([silence])
        silences.put(silence)  # visible here at once; the topic brings it to the other workers
        return web.json_response({"silenceID": silence.id})

    @routes.delete("/api/v2/silence/{silence_id}")
    async def expire(request: web.Request) -> web.Response:
        known = silences.get(request.match_info["silence_id"])
        if known is None:
            return _error(404, "no silence with that id")
        ended = known.expired(now())
        await write([ended])
        silences.put(ended)
        return web.json_response({"silenceID": ended.id, "status": {"state": ended.state(now())}})

    app = web.Application()
    app.add_routes(routes)
    return app
