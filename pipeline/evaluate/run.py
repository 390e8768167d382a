"""Prequential evaluation: rules and detectors over a labelled stream, one event at a time.

Each event is scored before any model learns it (the models' own order), so the
figures are what a worker would have reported live. The offline baseline is an
IsolationForest fitted on the stream's history (the part before ``history``, a
share of the stream in which the simulator injects no attacks) over the same
features the behaviour detectors see, and scored on the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from sklearn.ensemble import IsolationForest

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.models.features import FEATURES, Population, new_entity, observe
from detectors.models.modelset import ModelSet
from detectors.models.spec import load_detector_specs
from detectors.rules import load_ruleset
from pipeline.detector_names import declared_detectors

__all__ = ["Alert", "EvaluationError", "Run", "read_labelled", "run_stream"]

BASELINE = "isolation_forest (offline)"


class EvaluationError(Exception):
    """A labelled stream that cannot be evaluated; the message says which line and why."""


@dataclass(frozen=True)
class Alert:
    source: str
    """The rule or detector that raised it."""
    time: datetime
    event_ids: tuple[str, ...]
    description: str


@dataclass
class Run:
    """Everything measured on one stream."""

    times: list[datetime] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)
    """Attack type per event, None for normal events."""
    attack_ids: list[str | None] = field(default_factory=list)
    scores: dict[str, list[float]] = field(default_factory=dict)
    """Calibrated score per detector per event (0 where the detector does not select the event)."""
    raw: dict[str, list[float]] = field(default_factory=dict)
    """Uncalibrated score per detector per event, for ranking (PR-AUC): calibrated scores saturate at 1."""
    thresholds: dict[str, float] = field(default_factory=dict)
    enabled: set[str] = field(default_factory=set)
    """Detectors on by default (the others run for comparison only)."""
    alerts: list[Alert] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    history: int = 0
    """Events in the history the offline baseline was fitted on; metrics cover the rest."""
    baseline: list[float] = field(default_factory=list)
    """The baseline's anomaly score per event after the history."""


def read_labelled(path: Path) -> Iterable[AuditEvent]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvaluationError(f"{path}: cannot read: {exc}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield AuditEvent.model_validate_json(line)
            except ValidationError as exc:
                problem = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in problem["loc"])
                raise EvaluationError(
                    f"{path}:{number}: not a canonical event: {where}: {problem['msg']}"
                ) from None


def run_stream(
    events: Iterable[AuditEvent],
    detectors_dir: Path,
    rules_dir: Path,
    include_disabled: bool = True,
    history: float = 0.35,
    seed: int = 42,
) -> Run:
    models = ModelSet(load_detector_specs([detectors_dir], include_disabled=include_disabled))
    ruleset = load_ruleset([rules_dir], detectors=declared_detectors(detectors_dir))
    engine = RuleEngine(ruleset)
    run = Run(
        thresholds={r.spec.name: r.spec.threshold for r in models.runners},
        enabled={r.spec.name for r in models.runners if r.spec.enabled},
    )
    run.scores = {name: [] for name in models.names}
    run.raw = {name: [] for name in models.names}
    run.rules = [c.key for c in ruleset.correlations] + [d.key for d in ruleset.detections if d.emits]
    model_state: dict[str, Any] = {}
    rule_state: dict[str, Any] = {}
    feature_state: dict[str, Any] = {}
    population = Population()
    vectors: list[list[float]] = []
    for event in events:
        label = event.extra.get("label") if isinstance(event.extra.get("label"), dict) else None
        run.times.append(event.time)
        run.event_ids.append(event.event_id)
        run.labels.append(str(label["attack"]) if label else None)
        run.attack_ids.append(str(label["id"]) if label else None)
        result = models.run(event, model_state)
        for name in models.names:
            run.scores[name].append(result.scores.get(name, 0.0))
            run.raw[name].append(result.raw.get(name, 0.0))
        for finding in result.findings:
            run.alerts.append(
                Alert(finding.rule_id, event.time, finding.event_ids, finding.description or "")
            )
        for finding in engine.evaluate(event, rule_state).findings:
            run.alerts.append(
                Alert(finding.rule_id, event.time, finding.event_ids, finding.description or "")
            )
        entity = feature_state.setdefault(event.actor.id, new_entity())
        features = observe(event, entity, population).features  # once per event: observe learns it
        vectors.append([features[name] for name in FEATURES])
    if not run.times:
        raise EvaluationError("the stream has no events")
    run.history = int(len(vectors) * history)
    matrix = np.asarray(vectors)
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(matrix[: run.history])
    run.baseline = [float(v) for v in -forest.score_samples(matrix[run.history :])]
    return run


def labels_json(run: Run) -> str:
    return json.dumps(sorted({label for label in run.labels if label}))
