"""The pipeline's stages as plain objects, shared by the Faust agents and replay.

Keeping the logic here means the worker and ``auditwatch replay`` cannot drift
apart: replay is the worker's code without Kafka.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from alerts.model import Alert, build_alert
from alerts.redact import Redactor
from auditwatch_sdk.trace import TraceContext
from detectors.engine import RuleEngine, StateStore
from detectors.events import AuditEvent
from detectors.models import ModelSet
from detectors.rules import RuleSet, load_ruleset
from detectors.rules.ruleset import sibling_detectors
from pipeline import metrics
from pipeline.config import AuditwatchConfig
from pipeline.detector_names import declared_detectors
from pipeline.format_pinning import FormatSelector
from pipeline.formats import FormatContext, FormatRegistry, default_registry
from pipeline.ingest import Accepted, Rejection, accept_record
from pipeline.tracing import DETECT, INGEST, Tracing

__all__ = ["Stages", "build_stages"]


@dataclass
class Stages:
    """Ingest and detection for one worker or one replay."""

    engine: RuleEngine
    registry: FormatRegistry = field(default_factory=default_registry)
    formats: FormatSelector = field(default_factory=lambda: FormatSelector(FormatContext()))
    max_record_bytes: int = 1024 * 1024
    redactor: Redactor = field(default_factory=Redactor)
    rules_dir: Path | None = None
    """Where the rules came from; the worker watches it and reloads them (``pipeline.reload``)."""
    models: ModelSet | None = None
    """The anomaly models (``detectors.dir``), or None when they are off. Replay runs these; the
    worker runs one copy per partition (``pipeline.partition_models``) and passes it to ``detect``."""
    tracing: Tracing = field(default_factory=Tracing.disabled)
    """OpenTelemetry spans of ingest and detection (``pipeline.tracing``); disabled unless configured."""
    detector_names: tuple[str, ...] = ()
    """The declared detectors, which rule correlations may name (a rule reload needs them too)."""

    def ingest(self, payload: bytes | None, source_name: str | None = None) -> Accepted | Rejection:
        metrics.RECORDS_IN.inc()
        context = self.formats.context_for(source_name)
        started = time.time_ns() if self.tracing.enabled else 0
        outcome = accept_record(payload, self.registry, context, self.max_record_bytes)
        if isinstance(outcome, Accepted):
            metrics.EVENTS_ACCEPTED.inc(len(outcome.events))
            for event in outcome.events:
                metrics.BY_SOURCE(event.origin.system).inc()
        else:
            metrics.EVENTS_DEAD_LETTERED.inc()
        if self.tracing.enabled:
            self._trace_ingest(outcome, started, source_name)
        return outcome

    def _trace_ingest(self, outcome: Accepted | Rejection, started: int, source_name: str | None) -> None:
        """One span per accepted event, parented on its trace; one per rejected record."""
        ended = time.time_ns()
        source = {"auditwatch.source": source_name} if source_name else {}
        if isinstance(outcome, Rejection):
            error = outcome.reason
            self.tracing.record(INGEST, start_ns=started, end_ns=ended, attributes=source, error=error)
            return
        for event in outcome.events:
            self.tracing.record(
                INGEST,
                start_ns=started,
                end_ns=ended,
                trace_id=event.trace_id,
                span_id=event.span_id,
                attributes={**source, "auditwatch.event_id": event.event_id},
            )

    def detect(self, event: AuditEvent, state: StateStore, models: ModelSet | None = None) -> list[Alert]:
        """Rules, then the anomaly models (``models``, else ``self.models``), over one event.

        The models' per-entity state and checkpoints share ``state`` with the rules'
        windows (their keys start with ``model|``), so one changelog restores both.
        """
        if not self.tracing.enabled:
            return self._detect(event, state, models)
        attributes = {"auditwatch.event_id": event.event_id}
        with self.tracing.span(DETECT, trace_id=event.trace_id, span_id=event.span_id, attributes=attributes):
            return self._detect(event, state, models)

    def _detect(self, event: AuditEvent, state: StateStore, models: ModelSet | None) -> list[Alert]:
        started = time.perf_counter()
        result = self.engine.evaluate(event, state)
        metrics.DETECTOR_TIME("rules").observe(time.perf_counter() - started)
        metrics.EVENTS_EVALUATED.inc()
        for rule in result.matched_rules:
            metrics.MATCHES_BY_RULE(rule).inc()
        for rule in result.late_for:
            metrics.EVENTS_LATE.labels(rule=rule).inc()
        findings = list(result.findings)
        models = models if models is not None else self.models
        if models is not None:
            started = time.perf_counter()
            for finding in models.evaluate(event, state):
                # a detector's finding also feeds the correlations that name its detector
                findings += [finding, *self.engine.observe(finding, event, state)]
            metrics.DETECTOR_TIME("models").observe(time.perf_counter() - started)
        if not findings:
            return []
        trace = TraceContext(event.trace_id, event.span_id) if event.trace_id and event.span_id else None
        alerts = [
            build_alert(
                finding,
                redactor=self.redactor,
                # the event that triggered the finding is this one only if the finding names it
                trace=trace if event.event_id in finding.event_ids else None,
            )
            for finding in findings
        ]
        for alert in alerts:
            metrics.ALERTS_RAISED.labels(rule=alert.rule_id, severity=alert.severity.label).inc()
        return alerts


def build_stages(
    config: AuditwatchConfig, rules: RuleSet | None = None, rules_dir: Path | None = None
) -> Stages:
    """Stages from the config.

    Raises ``RuleLoadError`` if the rules do not load and ``DetectorConfigError`` if the
    detectors do not (each lists every problem with its file and line).
    """
    directory = rules_dir or config.rules.dir
    detectors = config.detectors
    # With the models off, the rules may also name a detector declared beside them
    # (config/rules and config/detectors), as `rules lint` accepts: they load, and the
    # correlation waits for findings that come once the models are on.
    names = declared_detectors(detectors.dir, strict=detectors.enabled)
    if not detectors.enabled:
        names = tuple(dict.fromkeys(names + sibling_detectors([directory])))
    ruleset = rules if rules is not None else load_ruleset([directory], detectors=names)
    models = ModelSet.from_paths([detectors.dir], checkpoint_every=0) if detectors.enabled else None
    ingest = config.ingest
    context = FormatContext(
        default_timezone=ingest.default_timezone,
        default_year=ingest.default_year,
        pinned_format=None if ingest.format == "auto" else ingest.format,
    )
    return Stages(
        engine=RuleEngine(ruleset),
        registry=default_registry(),
        formats=FormatSelector(context, dict(ingest.formats)),
        max_record_bytes=ingest.max_record_bytes,
        redactor=config.alerts.redactor(),
        rules_dir=None if rules is not None else directory,
        models=models,
        tracing=Tracing.from_config(config.tracing),
        detector_names=names,
    )
