"""The stages' Prometheus metrics and the trace ids they put on alerts.

Metrics live in the process-wide default registry, so each test reads the
values before and after and asserts the difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from pipeline.ingest import Accepted
from pipeline.metrics import BoundedLabel, directory_bytes
from pipeline.stages import Stages

START = 1_767_225_600  # 2026-01-01T00:00:00Z
TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
RULES = """\
title: Probe
name: probe
logsource: {product: acme}
detection: {sel: {action: probe}, condition: sel}
level: high
---
title: Touch
name: touch
logsource: {product: acme}
detection: {sel: {action: touch}, condition: sel}
---
title: Three touches
name: three_touches
correlation: {type: event_count, rules: [touch], group-by: [actor.id], timespan: 1m, condition: {gte: 3}}
level: medium
"""


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """Values of some samples now, to compare with later."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [metric(name, **labels) for name, labels in samples]

    def now(self) -> list[float]:
        return [metric(n, **lbl) - b for (n, lbl), b in zip(self.samples, self.before, strict=True)]


@pytest.fixture
def stages(tmp_path: Path) -> Stages:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yml").write_text(RULES)
    return Stages(engine=RuleEngine(load_ruleset([tmp_path / "rules"])))


def event(action: str, second: int, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"{action}-{n}",
        "time": START + second,
        "actor": {"id": "alice"},
        "action": action,
        "origin": {"system": "acme.app"},
        **extra,
    }


def test_ingest_counts_records_accepted_dead_lettered_and_sources(stages: Stages) -> None:
    delta = Delta(
        ("auditwatch_records_in_total", {}),
        ("auditwatch_events_accepted_total", {}),
        ("auditwatch_records_dead_lettered_total", {}),
        ("auditwatch_events_by_source_total", {"source": "acme.app"}),
    )
    assert isinstance(stages.ingest(json.dumps(event("probe", 0, 1)).encode()), Accepted)
    stages.ingest(b'{"event_id": "broken", ')
    stages.ingest(json.dumps(event("touch", 1, 2)).encode())
    assert delta.now() == [3, 2, 1, 2]


def test_detect_counts_matches_alerts_and_detector_latency(stages: Stages) -> None:
    delta = Delta(
        ("auditwatch_rule_matches_total", {"rule": "probe"}),
        ("auditwatch_rule_matches_total", {"rule": "touch"}),
        ("auditwatch_alerts_total", {"rule": "probe", "severity": "high"}),
        ("auditwatch_alerts_total", {"rule": "three_touches", "severity": "medium"}),
        ("auditwatch_detector_seconds_count", {"detector": "rules"}),
        ("auditwatch_events_evaluated_total", {}),
    )
    state: dict[str, Any] = {}
    events = [event("probe", 0, 0)] + [event("touch", s, s) for s in (1, 2, 3)] + [event("noise", 4, 4)]
    alerts = [a for e in events for a in stages.detect(AuditEvent.model_validate(e), state)]
    assert sorted(a.rule_id for a in alerts) == ["probe", "three_touches"]
    assert delta.now() == [1, 3, 1, 1, 5, 5]
    assert metric("auditwatch_detector_seconds_sum", detector="rules") > 0


def test_alerts_carry_the_trace_context_of_the_event_that_triggered_them(stages: Stages) -> None:
    state: dict[str, Any] = {}
    traced = {"trace_id": TRACE, "span_id": SPAN}
    (probe,) = stages.detect(AuditEvent.model_validate(event("probe", 0, 0, **traced)), state)
    assert (probe.trace_id, probe.span_id) == (TRACE, SPAN)
    assert json.loads(probe.to_json_bytes())["trace_id"] == TRACE
    (plain,) = stages.detect(AuditEvent.model_validate(event("probe", 1, 1)), state)
    assert (plain.trace_id, plain.span_id) == (None, None)
    assert "trace_id" not in json.loads(plain.to_json_bytes())  # absent, not null: archived bytes unchanged
    # A correlation takes the ids of the event that completed it: the third touch.
    for second in (2, 3):
        assert stages.detect(AuditEvent.model_validate(event("touch", second, second)), state) == []
    third = {"trace_id": "a" * 32, "span_id": "b" * 16}
    (burst,) = stages.detect(AuditEvent.model_validate(event("touch", 4, 4, **third)), state)
    assert (burst.rule_id, burst.trace_id, burst.span_id) == ("three_touches", "a" * 32, "b" * 16)


def test_bounded_label_folds_values_past_its_limit_into_other() -> None:
    label = BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", "d", "b")] == ["a", "b", "other", "a", "other", "b"]
    with pytest.raises(ValueError):
        BoundedLabel(limit=0)


def test_directory_bytes_sums_files_under_a_directory(tmp_path: Path) -> None:
    (tmp_path / "seg").mkdir()
    (tmp_path / "seg" / "a.log").write_bytes(b"x" * 100)
    (tmp_path / "b.json").write_bytes(b"y" * 23)
    assert directory_bytes(tmp_path) == 123
    assert directory_bytes(tmp_path / "missing") == 0
