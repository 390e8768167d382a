"""The records the router's two stages exchange through Kafka, as JSON.

The *route* stage reads alerts (keyed by alert id), finds their routes and
writes one :class:`RoutedAlert` per route, keyed by the aggregation group's
id, so that every alert of a group reaches the same partition. The *notify*
stage reads that topic, in which two more kinds of record travel:

* a :class:`Tick`, sent to each partition every ``tick`` seconds, on which
  the partition's due groups are flushed;
* a :class:`DeliveryResult`, sent when an integration has delivered (or
  parked) a notification, on which the notification log records it.

Both are processed like alerts, in partition order, so every change to the
router's state happens while handling a record of the group's own partition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from alerts.errors import AlertDecodeError
from alerts.model import Alert

__all__ = ["DeliveryResult", "RoutedAlert", "RouterMessage", "Tick", "decode_message", "encode_message"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoutedAlert(_Message):
    kind: Literal["alert"] = "alert"
    route_id: str
    group_id: str
    group_key: str
    receiver: str
    group_labels: dict[str, str]
    labels: dict[str, str]
    alert: Alert
    routed_at: datetime


class Tick(_Message):
    kind: Literal["tick"] = "tick"
    at: datetime


class DeliveryResult(_Message):
    kind: Literal["result"] = "result"
    group_id: str
    integration: str
    notification_id: str
    outcome: Literal["delivered", "parked", "skipped"]
    at: datetime
    detail: str = ""


RouterMessage = Annotated[RoutedAlert | Tick | DeliveryResult, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[RoutedAlert | Tick | DeliveryResult] = TypeAdapter(RouterMessage)


def encode_message(message: RoutedAlert | Tick | DeliveryResult) -> bytes:
    return message.model_dump_json().encode()


def decode_message(data: bytes | str | None) -> RoutedAlert | Tick | DeliveryResult:
    """One router record; raises :class:`AlertDecodeError` if it is not one."""
    try:
        return _ADAPTER.validate_json(data or b"")
    except ValidationError as exc:
        raise AlertDecodeError(f"not a router record: {exc.errors(include_url=False)[0]['msg']}") from exc
