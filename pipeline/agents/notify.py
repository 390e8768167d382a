"""The notify agent: alerts to the configured sinks; what cannot be delivered is parked.

Parked notifications go to the alerts dead-letter topic with the reason, so
an undeliverable alert is never silently dropped.
"""

from __future__ import annotations

from typing import Any

import faust
import httpx

from alerts.config import AlertsConfig
from alerts.delivery import ParkedNotification
from alerts.errors import AlertDecodeError
from alerts.model import Alert
from pipeline.deadletter import DeadLetter
from pipeline.notify import build_dispatcher

__all__ = ["register_notify"]


def register_notify(app: faust.App, config: AlertsConfig, *, source: Any, parked: Any) -> None:
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
                    letter = DeadLetter.of(
                        value, f"not an alert: {exc}", source_topic=source.get_topic_name()
                    )
                    await parked.send(key=None, value=letter.to_json_bytes())
                    continue
                await dispatcher.dispatch(alert)
