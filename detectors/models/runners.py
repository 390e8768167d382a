"""One running detector: a spec, its live model, and its per-entity state in the caller's mapping.

A runner's ``run`` takes one event and the caller's ``MutableMapping`` and returns
the detector's calibrated score for it and a finding when it alerts. Per-entity
state is plain JSON under ``model|<detector>|<tenant>|<group>``; the shared model
is checkpointed separately (``detectors.models.modelset``).
"""

from __future__ import annotations

import json
import math
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from detectors.events import AuditEvent, field_value
from detectors.findings import Finding, evidence_sample
from detectors.models.behaviour import BehaviourDetector
from detectors.models.calibration import TailCalibrator
from detectors.models.explain import FeatureStats, describe
from detectors.models.features import EntityLimits, Population, learn, measure, new_entity
from detectors.models.rate import RateDetector
from detectors.models.spec import BehaviourSpec, RateSpec

__all__ = ["BehaviourRunner", "RateRunner", "Runner", "entity_key", "selects"]

StateStore = MutableMapping[str, Any]
MAX_EMPTY_INTERVALS = 48
"""After a silence, at most this many empty intervals are scored (the rest are skipped)."""


def entity_key(name: str, tenant_id: str, group: dict[str, str]) -> str:
    return f"model|{name}|{tenant_id}|{json.dumps(group, sort_keys=True, separators=(',', ':'))}"


def selects(spec: BehaviourSpec | RateSpec, event: AuditEvent) -> bool:
    for path, wanted in spec.events.items():
        value = field_value(event, path)
        options = wanted if isinstance(wanted, list) else [wanted]
        if value is None or str(value).lower() not in {o.lower() for o in options}:
            return False
    return True


def _group(spec: BehaviourSpec | RateSpec, event: AuditEvent) -> dict[str, str]:
    return {name: str(field_value(event, name)) for name in spec.group_by}


def _threshold_text(spec: BehaviourSpec | RateSpec) -> str:
    every = 1 / (1 - spec.threshold)
    return f"calibrated score >= {spec.threshold} (normal points score this high about 1 in {every:,.0f})"


class BehaviourRunner:
    """Features per entity, one shared river model, AnomalyFilter semantics, warm-up and cooldown."""

    def __init__(self, spec: BehaviourSpec, limits: EntityLimits = EntityLimits()) -> None:
        self.spec = spec
        self.limits = limits
        params = spec.model
        if params.type == "half_space_trees":
            self.model = BehaviourDetector(
                "half_space_trees",
                n_trees=params.n_trees,
                height=params.height,
                window_size=params.window_size,
                seed=spec.seed,
            )
            min_count = params.window_size + 200
            self.surprise = True
            """HalfSpaceTrees scores 1 - mass in [0, 1]; calibration works on -log(mass), its surprise."""
            floor = 0.1
            """A surprise 0.1 apart is ~10% of mass: noise. Without a floor, a stream of look-alike
            points (services at night) fits a tail of width ~0, and the next slightly different
            point scores as one in a million."""
        else:
            self.model = BehaviourDetector("one_class_svm", nu=params.nu, seed=spec.seed)
            min_count = 300
            self.surprise = False
            floor = 1e-6
        self.calibrator = TailCalibrator(min_count=min_count, floor=floor)
        self.stats = FeatureStats()
        self.population = Population()
        self.events = 0
        self.last_raw = 0.0
        """The raw (uncalibrated) score of the last event run: for ranking metrics such as PR-AUC."""

    def run(self, event: AuditEvent, state: StateStore) -> tuple[float, Finding | None]:
        spec = self.spec
        group = _group(spec, event)
        key = entity_key(spec.name, event.tenant_id, group)
        record = state.get(key)
        if record is None:
            record = {"f": new_entity(), "alert": 0.0}
        obs = measure(event, record["f"], self.population, self.limits)
        x = {name: obs.features[name] for name in spec.features}
        raw = self.model.score_one(x)
        if self.surprise:
            raw = -math.log(max(1.0 - raw, 1e-6))
        self.last_raw = raw
        score = self.calibrator.score(raw)
        flagged = score >= spec.threshold
        warm = obs.seen_before >= spec.warm_up
        # AnomalyFilter: never learn from what is flagged, once the entity is past its warm-up.
        # During warm-up the entity cannot alert, and its first events are how the model learns
        # what a new kind of entity looks like; refusing them would flag it forever after.
        if not flagged or not warm:
            self.model.learn_one(x)
            self.stats.learn(x)
        # the entity's profile follows the same semantics (detectors.models.features)
        learn(event, record["f"], self.population, obs, self.limits, flagged=flagged and warm)
        self.events += 1
        finding = None
        now = event.epoch
        if not flagged:
            self.calibrator.learn(raw)
        elif warm and now - float(record["alert"]) >= spec.cooldown:
            record["alert"] = now
            finding = self._finding(event, group, score, x, obs.facts)
        state[key] = record
        return score, finding

    def _finding(
        self,
        event: AuditEvent,
        group: dict[str, str],
        score: float,
        x: dict[str, float],
        facts: dict[str, str],
    ) -> Finding:
        drivers = self.stats.drivers(x)
        reasons = describe(drivers, facts) or ["an unusual combination of features"]
        return Finding(
            rule_id=self.spec.name,
            rule_title=self.spec.title,
            description=f"Anomaly score {score:.5f}: " + "; ".join(reasons),
            severity=self.spec.level,
            tenant_id=event.tenant_id,
            group=group,
            count=1,
            threshold=_threshold_text(self.spec),
            window_start=event.time,
            window_end=event.time,
            first_seen=event.time,
            last_seen=event.time,
            event_ids=(event.event_id,),
            correlation_ids=(event.correlation_id,) if event.correlation_id else (),
            evidence=(evidence_sample(event),),
            tags=("anomaly", "behaviour"),
            labels={
                "anomaly_score": f"{score:.6f}",
                "detector": "behaviour",
                "model": self.spec.model.type,
                "drivers": ",".join(name for name, _ in drivers),
            },
        )

    def checkpoint_payload(self) -> Any:
        return (
            self.model,
            self.calibrator.to_json(),
            self.stats.to_json(),
            self.population.to_json(),
            self.events,
        )

    def load_payload(self, payload: Any) -> None:
        model, calibrator, stats, population, events = payload
        self.model = model
        self.calibrator = TailCalibrator.from_json(calibrator)
        self.stats = FeatureStats.from_json(stats)
        self.population = Population.from_json(population)
        self.events = int(events)


class RateRunner:
    """Event counts per key and interval, scored by a robust Holt-Winters forecast.

    A spike alerts as soon as the open interval's count passes the alert level
    (computed when the previous interval closed); a drop or level shift alerts
    when the interval closes, which for a key that fell silent is when its next
    event arrives.
    """

    def __init__(self, spec: RateSpec) -> None:
        self.spec = spec
        self.calibrator = TailCalibrator(min_count=50, floor=0.5)
        """Raw rate scores are in typical residuals: the tail is never thinner than half of one."""
        self.events = 0
        self.last_raw = 0.0

    def _detector(self, data: dict[str, Any] | None) -> RateDetector:
        p = self.spec.model
        det = RateDetector(
            alpha=p.alpha,
            beta=p.beta,
            gamma=p.gamma,
            period=self.spec.season,
            clip=p.clip,
            shift_run=p.shift_run,
            min_scale=1.0,
            warm_up=self.spec.warm_up,
            counts=True,
        )
        if data is not None:
            det.load_json(data)
        return det

    def _alert_level(self, det: RateDetector) -> float:
        """The count at which the open interval crosses the threshold (inf while cold)."""
        cal = self.calibrator
        if det._n < det.warm_up or cal.count < cal.min_count:
            return math.inf
        return det._forecast() + cal.raw_at(self.spec.threshold) * det._typical()

    def run(self, event: AuditEvent, state: StateStore) -> tuple[float, Finding | None]:
        spec = self.spec
        group = _group(spec, event)
        key = entity_key(spec.name, event.tenant_id, group)
        bucket = int(event.epoch // spec.interval)
        record = state.get(key)
        finding: Finding | None = None
        score = 0.0
        if record is None:
            record = {"b": bucket, "c": 0, "m": None, "hi": math.inf, "fl": 0, "alert": 0.0, "ids": []}
        if bucket > record["b"]:
            det = self._detector(record["m"])
            first = max(record["b"], bucket - MAX_EMPTY_INTERVALS)
            count = record["c"] if first == record["b"] else 0
            for closing in range(first, bucket):
                score_closed, late = self._close(det, record, closing, count, event)
                finding = finding or late
                score = max(score, score_closed)
                count = 0
            record.update(b=bucket, c=0, m=det.to_json(), hi=self._alert_level(det), fl=0, ids=[])
        if bucket == record["b"]:
            record["c"] += 1
            if len(record["ids"]) < 10:
                record["ids"].append(event.event_id)
            if not record["fl"] and record["c"] >= record["hi"] and spec.direction != "down":
                record["fl"] = 1
                score = max(score, spec.threshold)
                det = self._detector(record["m"])
                finding = finding or self._alert(record, event, record["c"], det._forecast(), score, "spike")
        self.events += 1
        self.last_raw = score
        state[key] = record
        return score, finding

    def _close(
        self, det: RateDetector, record: dict[str, Any], bucket: int, count: int, event: AuditEvent
    ) -> tuple[float, Finding | None]:
        x = {"value": float(count)}
        forecast = det._forecast()
        raw = det.score_one(x)
        score = self.calibrator.score(raw)
        flagged = score >= self.spec.threshold
        warm = det._n >= det.warm_up
        det.learn_one(x)
        if warm and not flagged:
            self.calibrator.learn(raw)
        kind = "spike" if count > forecast else "drop"
        wanted = self.spec.direction == "both" or (self.spec.direction == "up") == (kind == "spike")
        if not flagged or not warm or not wanted or (record["fl"] and bucket == record["b"]):
            return score, None
        return score, self._alert(record, event, count, forecast, score, kind, bucket)

    def _alert(
        self,
        record: dict[str, Any],
        event: AuditEvent,
        count: int,
        forecast: float,
        score: float,
        kind: str,
        bucket: int | None = None,
    ) -> Finding | None:
        spec = self.spec
        now = event.epoch
        if now - float(record["alert"]) < spec.cooldown:
            return None
        record["alert"] = now
        start = (bucket if bucket is not None else record["b"]) * spec.interval
        window_start = datetime.fromtimestamp(start, tz=UTC)
        window_end = datetime.fromtimestamp(start + spec.interval, tz=UTC)
        usual = max(forecast, 0.0)
        ratio = f"{count / usual:.1f}x" if usual >= 0.5 else "far above"
        what = (
            f"{count} events in {spec.interval:.0f}s, {ratio} the usual ~{usual:.1f}"
            if kind == "spike"
            else f"{count} events in {spec.interval:.0f}s where ~{usual:.1f} are usual"
        )
        group = _group(spec, event)
        return Finding(
            rule_id=spec.name,
            rule_title=spec.title,
            description=f"Rate {kind} (score {score:.5f}): {what}",
            severity=spec.level,
            tenant_id=event.tenant_id,
            group=group,
            count=max(1, count),
            threshold=_threshold_text(spec),
            window_start=window_start,
            window_end=window_end,
            first_seen=window_start if kind == "drop" else event.time,
            last_seen=event.time,
            event_ids=tuple(record["ids"]) if kind == "spike" else (event.event_id,),
            evidence=(evidence_sample(event),),
            tags=("anomaly", "rate", kind),
            labels={
                "anomaly_score": f"{score:.6f}",
                "detector": "rate",
                "change": kind,
                "usual": f"{usual:.2f}",
                "observed": str(count),
            },
        )

    def checkpoint_payload(self) -> Any:
        return (self.calibrator.to_json(), self.events)

    def load_payload(self, payload: Any) -> None:
        calibrator, events = payload
        self.calibrator = TailCalibrator.from_json(calibrator)
        self.events = int(events)


Runner = BehaviourRunner | RateRunner
