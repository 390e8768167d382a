"""Input formats: decode a raw record and turn it into canonical events.

``FormatRegistry.to_events`` is the one entry point ingest calls. With no
pinned format it detects the format from the record itself; the first adapter
whose ``detect`` accepts the record wins, in registration order.
"""

from __future__ import annotations

import json
import re

from detectors.events import AuditEvent
from pipeline.errors import RecordRejected
from pipeline.formats.base import DecodedRecord, FormatAdapter, FormatContext
from pipeline.formats.cloudtrail import CloudTrailAdapter
from pipeline.formats.ecs import EcsAdapter
from pipeline.formats.github_audit import GitHubAuditAdapter
from pipeline.formats.k8s_audit import K8sAuditAdapter
from pipeline.formats.native import NativeAdapter
from pipeline.formats.ocsf import OcsfAdapter
from pipeline.formats.okta import OktaAdapter
from pipeline.formats.syslog_auth import SyslogAuthAdapter

__all__ = ["FormatAdapter", "FormatContext", "FormatRegistry", "decode_text", "default_registry"]

_PREVIEW = 80
_LONE_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]")


class FormatRegistry:
    """The adapters a pipeline knows, in detection order."""

    def __init__(self, adapters: list[FormatAdapter]) -> None:
        self._adapters = list(adapters)
        self._by_name = {adapter.name: adapter for adapter in self._adapters}

    @property
    def names(self) -> list[str]:
        return [adapter.name for adapter in self._adapters]

    def adapter_for(self, record: DecodedRecord, pinned: str | None) -> FormatAdapter:
        if pinned and pinned != "auto":
            try:
                return self._by_name[pinned]
            except KeyError:
                raise RecordRejected(
                    f"format {pinned!r} is not known; use one of: auto, {', '.join(self.names)}"
                ) from None
        for adapter in self._adapters:
            if adapter.detect(record):
                return adapter
        preview = record if isinstance(record, str) else json.dumps(record)[:_PREVIEW]
        raise RecordRejected(f"unrecognised format; record starts with {preview[:_PREVIEW]!r}")

    def to_events(self, text: str, ctx: FormatContext) -> list[AuditEvent]:
        record = decode_text(text)
        adapter = self.adapter_for(record, ctx.pinned_format)
        return adapter.adapt(record, ctx)


def decode_text(text: str) -> DecodedRecord:
    """A JSON object when the text looks like JSON, otherwise the stripped line."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        return stripped
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise RecordRejected(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise RecordRejected("invalid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise RecordRejected(f"a record must be a JSON object, not a JSON {type(value).__name__}")
    if _LONE_SURROGATE_HINT.search(stripped):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RecordRejected(
                f"invalid JSON: an unpaired UTF-16 surrogate escape ({exc.object[exc.start]!r}) "
                "is not a character"
            ) from None
    return value


def default_registry() -> FormatRegistry:
    """A fresh registry with every built-in adapter (fresh, so dedup state is not shared).

    Detection order: the formats with unmistakable markers first (CloudTrail's
    ``eventVersion``, Kubernetes' ``kind``/``apiVersion``, Okta's ``eventType``
    and ``published``, OCSF's ``class_uid``), then GitHub and ECS, which are
    told apart by weaker hints, then syslog text lines, and auditwatch's own
    schema last: its test (two of event_id, action, actor) would also accept a
    GitHub entry, which has ``action`` and ``actor``.
    """
    return FormatRegistry(
        [
            CloudTrailAdapter(),
            K8sAuditAdapter(),
            OktaAdapter(),
            OcsfAdapter(),
            GitHubAuditAdapter(),
            EcsAdapter(),
            SyslogAuthAdapter(),
            NativeAdapter(),
        ]
    )
