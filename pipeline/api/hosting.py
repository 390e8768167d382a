"""The API inside the worker: uvicorn in Faust's event loop, over Kafka-backed stores.

With ``api.port`` set, :func:`register_api` adds one Faust task that

* makes sure the compacted alert status topic exists;
* follows three topics outside any consumer group, so every worker holds the
  same view: the alerts topic (alerts of the last ``ALERT_HISTORY``, into the
  bounded alert book), the alert status topic (acknowledgements and
  resolutions, from the start) and the silences topic;
* serves :func:`pipeline.api.app.create_api` with uvicorn's ``Server.serve()``
  on ``api.host`` (127.0.0.1 by default). uvicorn's signal handling is
  switched off: Faust owns SIGTERM and SIGINT, and stops the task, which stops
  the server.

A status change is sent with ``acks=all`` and awaited before the API answers.
The API's audit events go to the raw topic through the worker's producer, so
ingest validates them and the rules (``config/rules/auditwatch_api_denied.yml``)
see them like any other source's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from alerts.errors import AlertDecodeError
from alerts.model import Alert
from alerts.router.silence import Silences
from detectors.events import AuditEvent
from pipeline.api.alertbook import AlertBook, AlertState
from pipeline.api.app import create_api
from pipeline.api.archive_view import ArchiveView
from pipeline.api.backend import AccessReview, ApiBackend
from pipeline.api.tokens import TokenStore
from pipeline.config import AuditwatchConfig
from pipeline.errors import PipelineError
from pipeline.router_runtime import TopicTail, silence_tail
from pipeline.silences import write_silences
from pipeline.stages import Stages
from pipeline.topics import TopicSpec, ensure_topics

__all__ = ["ALERT_HISTORY", "register_api"]

log = logging.getLogger("auditwatch.api")

ALERT_HISTORY = timedelta(days=7)


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the worker's own stay in place."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _alert_tail(bootstrap: str, topic: str, book: AlertBook) -> TopicTail:
    def apply(record: Any) -> None:
        try:
            alert = Alert.from_json_bytes(record.value or b"")
        except AlertDecodeError:
            return  # the notify stage dead-letters it
        book.add(alert, datetime.fromtimestamp(record.timestamp / 1000, UTC))

    return TopicTail(bootstrap, topic, apply, since=lambda: datetime.now(UTC) - ALERT_HISTORY)


def _status_tail(bootstrap: str, topic: str, book: AlertBook) -> TopicTail:
    def apply(record: Any) -> None:
        if record.value is None:
            return
        try:
            book.apply(AlertState.model_validate_json(record.value))
        except ValueError as exc:
            log.warning("ignoring a record of %s that is not an alert status: %s", topic, exc)

    return TopicTail(bootstrap, topic, apply)


def _access_review(config: AuditwatchConfig) -> AccessReview | None:
    """The review over the archive's events, when the worker keeps an archive."""
    if not config.archive.enabled:
        return None
    directory = str(config.archive.dir)

    async def review(since: str) -> Any:
        from pipeline.access import review_sources

        result = await asyncio.to_thread(review_sources, [directory], since)
        return result.to_json()

    return review


def register_api(app: faust.App, config: AuditwatchConfig, stages: Stages, *, raw: Any) -> None:
    """Serve the API from this worker when ``api.port`` is set (see the module docstring)."""
    settings = config.api
    if not settings.port:
        return
    kafka, topics = config.kafka, config.topics
    status_topic = topics.name("alert_status")
    book, silences = AlertBook(), Silences()
    producer: dict[str, AIOKafkaProducer] = {}

    async def write_state(state: AlertState) -> None:
        try:
            await producer["status"].send_and_wait(
                status_topic, state.to_json_bytes(), key=state.alert_id.encode()
            )
        except (KafkaError, KeyError) as exc:
            raise PipelineError(
                f"cannot store the alert status in Kafka at {kafka.bootstrap}: {exc}"
            ) from exc

    async def emit(event: AuditEvent) -> None:
        await raw.send(key=event.actor.id.encode(), value=event.model_dump_json().encode())

    backend = ApiBackend(
        book=book,
        write_state=write_state,
        silences=silences,
        write_silences=lambda items: write_silences(config, items),
        ruleset=lambda: stages.engine.ruleset,
        archive=ArchiveView(config.archive.storage()) if config.archive.enabled else None,
        access_review=_access_review(config),
        events_topic=topics.name("events"),
    )
    api = create_api(backend, TokenStore(settings.tokens_file), emit, anonymous=settings.anonymous)
    tails = [
        _alert_tail(kafka.bootstrap, topics.name("alerts"), book),
        _status_tail(kafka.bootstrap, status_topic, book),
        silence_tail(kafka.bootstrap, topics.name("silences"), silences),
    ]

    async def serve() -> None:
        spec = TopicSpec(
            status_topic, kafka.partitions, kafka.replication_factor, {"cleanup.policy": "compact"}
        )
        await ensure_topics(kafka.bootstrap, [spec])
        producer["status"] = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await producer["status"].start()
        runs = [asyncio.ensure_future(tail.run()) for tail in tails]
        server = _QuietServer(
            uvicorn.Config(
                api,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        serving = asyncio.ensure_future(server.serve())
        log.info("API on http://%s:%d (tokens in %s)", settings.host, settings.port, settings.tokens_file)
        try:
            await asyncio.shield(serving)
        except SystemExit:  # uvicorn exits when it cannot bind
            raise PipelineError(f"the API cannot listen on {settings.host}:{settings.port}") from None
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, Exception, SystemExit):
                await asyncio.wait_for(serving, 10)
            for run in runs:
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run
            await producer.pop("status").stop()

    app.task(serve)
