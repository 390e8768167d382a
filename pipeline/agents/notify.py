"""The notify stage: alerts to receivers. What cannot be delivered is parked, never dropped.

Without ``alerts.router`` in the config, one agent sends each alert to the
configured sinks (``notify``). With it, the router runs as two thin agents
and a timer over the pure core of :mod:`alerts.router`:

    audit.alerts --route--> audit.alerts.routed (keyed by aggregation group) --router--> integrations
                                    ^   ticks (a timer, per assigned partition)       |
                                    +---- delivery results ---------------------------+

* ``route`` finds each alert's routes and writes one record per route, keyed
  by its group, so a group lives in one partition;
* ``router`` adds alerts to their groups, flushes due groups on each tick and
  records delivery results. The groups, their alerts and the notification log
  are changelog-backed tables, so a restarted or rebalanced worker resumes
  with them: it neither re-sends what was recorded as sent nor forgets what
  was decided (pending notifications are handed out again, same id);
* deliveries run as tasks (:class:`pipeline.router_runtime.Deliverer`), so a
  slow receiver holds up neither detection nor the other receivers;
* silences (a compacted topic) and the firing alerts the inhibitor looks at
  are followed by every worker, and no group flushes before both are caught up;
  with ``alerts.silences_api_port`` set, the worker serves the silences HTTP
  API (:mod:`pipeline.silence_api`) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any, cast

import faust
import httpx
from aiohttp import web
from rich.console import Console

from alerts.config import AlertsConfig
from alerts.delivery import ParkedNotification
from alerts.errors import AlertDecodeError
from alerts.integrations.delivery import ParkedGroupNotification
from alerts.model import Alert
from alerts.router.dispatch import GroupDispatcher
from alerts.router.inhibit import ActiveAlerts, Inhibitor
from alerts.router.messages import DeliveryResult, RoutedAlert, Tick, decode_message, encode_message
from alerts.router.silence import Silencer, Silences
from pipeline.config import AuditwatchConfig
from pipeline.deadletter import DeadLetter
from pipeline.notify import build_dispatcher, build_router_integrations
from pipeline.router_runtime import Deliverer, alert_mirror, log, silence_tail
from pipeline.routerconfig import load_router
from pipeline.silence_api import silence_api
from pipeline.silences import write_silences
from pipeline.tracing import delivering

__all__ = ["ROUTER_TABLES", "register_notify"]

ROUTER_TABLES = ("router-groups", "router-alerts", "router-nflog")


def register_notify(app: faust.App, config: AuditwatchConfig, *, source: Any, parked: Any) -> None:
    if config.alerts.router is None:
        _register_sinks(app, config.alerts, source=source, parked=parked)
    else:
        _register_router(app, config, source=source, parked=parked)


def _dead_letter(value: bytes | None, reason: str, topic: str) -> bytes:
    return DeadLetter.of(value, reason, source_topic=topic).to_json_bytes()


def _register_sinks(app: faust.App, config: AlertsConfig, *, source: Any, parked: Any) -> None:
    async def park(notification: ParkedNotification) -> None:
        await parked.send(key=notification.alert.id.encode(), value=notification.to_json_bytes())

    @app.agent(source, name="notify")
    async def notify(stream: Any) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            dispatcher = build_dispatcher(config, client, park)
            async for value in stream:
                try:
                    alert = Alert.from_json_bytes(value)
                except AlertDecodeError as exc:
                    # Only a foreign producer on the alerts topic can cause this; keep the bytes.
                    letter = _dead_letter(value, f"not an alert: {exc}", source.get_topic_name())
                    await parked.send(key=None, value=letter)
                    continue
                with delivering(alert.trace_id, alert.span_id, **{"auditwatch.alert_id": alert.id}):
                    await dispatcher.dispatch(alert)


def _register_router(app: faust.App, config: AuditwatchConfig, *, source: Any, parked: Any) -> None:
    assert config.alerts.router is not None
    router_file = config.alerts.router
    spec = load_router(router_file)  # a bad router config stops start-up, with its lines
    kafka, topics = config.kafka, config.topics
    routed = app.topic(
        topics.name("alerts_routed"),
        key_serializer="raw",
        value_serializer="raw",
        partitions=kafka.partitions,
    )
    schema: Any = faust.Schema(key_serializer="json", value_serializer="json")
    groups, alerts, nflog = (
        app.Table(name, default=None, partitions=kafka.partitions, schema=schema) for name in ROUTER_TABLES
    )
    active = ActiveAlerts(spec.inhibit_rules)
    silences = Silences()
    dispatcher = GroupDispatcher(
        spec,
        groups=groups,
        alerts=alerts,
        nflog=nflog,
        integrations={},  # set when the router agent starts and has built them
        inhibitor=Inhibitor(active),
        silencer=Silencer(silences),
    )
    tails = [
        silence_tail(kafka.bootstrap, topics.name("silences"), silences),
        alert_mirror(kafka.bootstrap, topics.name("alerts"), active, spec.resolve_timeout),
    ]
    state: dict[str, Deliverer] = {}
    routed_name = topics.name("alerts_routed")
    tick_seconds = config.alerts.router_tick
    flushed_at: dict[int, float] = {}

    def now() -> datetime:
        return datetime.now(UTC)

    async def park(notification: ParkedGroupNotification) -> None:
        await parked.send(key=notification.id.encode(), value=notification.to_json_bytes())

    async def report(result: DeliveryResult) -> None:
        await routed.send(key=result.group_id.encode(), value=encode_message(result))

    @app.agent(source, name="route")
    async def route(stream: Any) -> None:
        async for value in stream:
            try:
                alert = Alert.from_json_bytes(value)
            except AlertDecodeError as exc:
                await parked.send(
                    key=None, value=_dead_letter(value, f"not an alert: {exc}", source.get_topic_name())
                )
                continue
            for record in dispatcher.route(alert, now()):
                await routed.send(key=record.group_id.encode(), value=encode_message(record))

    @app.agent(routed, name="router")
    async def router(stream: Any) -> None:
        async with httpx.AsyncClient(timeout=30.0) as client:
            built = build_router_integrations(
                spec, client, park, base_dir=router_file.parent, console=Console(soft_wrap=True)
            )
            dispatcher.integrations = built.refs
            deliverer = state["deliverer"] = Deliverer(built.senders, report, now)
            try:
                async for event in stream.events():
                    partition = event.message.partition
                    try:
                        message = decode_message(event.value)
                    except AlertDecodeError as exc:
                        await parked.send(key=None, value=_dead_letter(event.value, str(exc), routed_name))
                        continue
                    match message:
                        case RoutedAlert():
                            dispatcher.ingest(message, partition, now())
                        case Tick():
                            if not all(tail.ready.is_set() for tail in tails):
                                continue
                            moment = now()
                            late = (moment - message.at).total_seconds() > 2 * tick_seconds
                            if late and time.monotonic() - flushed_at.get(partition, 0.0) < tick_seconds:
                                continue  # a backlog of ticks: one flush per interval is enough
                            flushed_at[partition] = time.monotonic()
                            report_ = dispatcher.flush_due(partition, moment, deliverer.in_flight)
                            for job in report_.jobs:
                                deliverer.submit(job)
                        case DeliveryResult():
                            dispatcher.record(message)
                            deliverer.acknowledge(message)
            finally:
                await deliverer.close()

    async def tick() -> None:
        try:
            assigned = [tp.partition for tp in app.consumer.assignment() if tp.topic == routed_name]
        except Exception:  # the consumer is not started yet
            return
        value = encode_message(Tick(at=now()))
        for partition in assigned:
            await routed.send(key=None, value=value, partition=partition)

    async def follow() -> None:
        runs = [asyncio.ensure_future(tail.run()) for tail in tails]
        try:
            await asyncio.gather(*runs)
        finally:
            for run in runs:
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run

    async def prune() -> None:
        removed = active.prune(now())
        if removed:
            log.debug("forgot %d resolved alerts", removed)

    async def on_revoked(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        for tp in args[0] if args else ():
            if tp.topic == routed_name:
                dispatcher.forget(tp.partition)

    app.on_partitions_revoked.connect(cast(Any, on_revoked))  # mode types the handler too narrowly
    app.timer(config.alerts.router_tick)(tick)
    app.timer(60.0)(prune)
    app.task(follow)
    if config.alerts.silences_api_port:
        port = config.alerts.silences_api_port

        async def serve_silences() -> None:
            api = silence_api(silences, lambda items: write_silences(config, items))
            runner = web.AppRunner(api, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()

        app.task(serve_silences)
