from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from detectors.events import AuditEvent
from detectors.findings import Finding
from detectors.models import CheckpointError, DetectorConfigError, ModelSet, load_detector_specs
from detectors.models.modelset import checkpoint_key
from tests.models.conftest import small_stream

CONFIG = Path(__file__).resolve().parents[2] / "config" / "detectors"


def events() -> list[AuditEvent]:
    return [AuditEvent.model_validate(item.data) for item in small_stream().events]


def test_the_shipped_detector_documents_load() -> None:
    names = [spec.name for spec in load_detector_specs([CONFIG], include_disabled=True)]
    assert {"actor_behaviour", "actor_behaviour_svm", "auth_failure_rate", "service_rate"} <= set(names)


def test_a_typo_is_an_error_with_its_line(tmp_path: Path) -> None:
    doc = tmp_path / "d.yml"
    doc.write_text(
        "detector:\n  type: rate\n  name: r\n  title: R\n  group-by: [actor.id]\n"
        "  warm-up: 3\n  treshold: 0.9\n"
    )
    with pytest.raises(DetectorConfigError, match=r"d.yml:7: detector.treshold: unknown key"):
        load_detector_specs([doc])


def run(
    models: ModelSet, stream: list[AuditEvent], state: Any
) -> tuple[list[dict[str, float]], list[Finding]]:
    scores, findings = [], []
    for event in stream:
        result = models.run(event, state)
        scores.append(result.scores)
        findings.extend(result.findings)
    return scores, findings


def test_findings_explain_themselves() -> None:
    specs = [
        spec.model_copy(update={"threshold": 0.99}) if spec.type == "behaviour" else spec
        for spec in load_detector_specs([CONFIG])
    ]
    _, findings = run(ModelSet(specs), events(), {})
    behaviour = [f for f in findings if f.labels["detector"] == "behaviour"]
    assert behaviour
    for finding in behaviour:
        assert finding.group.keys() == {"actor.id"}
        assert finding.description is not None and finding.description.startswith("Anomaly score ")
        assert float(finding.labels["anomaly_score"]) >= 0.99
        assert finding.threshold is not None and "1 in 100" in finding.threshold
    assert any("for this actor" in (f.description or "") for f in behaviour)


class JsonTable(dict[str, Any]):
    """Stores values as a JSON-serialising changelog table would: what is read back is a copy."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, json.dumps(value))

    def __getitem__(self, key: str) -> Any:
        return json.loads(super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        raw = super().get(key)
        return default if raw is None else json.loads(raw)


def test_a_restarted_model_set_resumes_warm_with_identical_scores() -> None:
    stream = events()
    cut = len(stream) // 2
    uninterrupted, _ = run(ModelSet.from_paths([CONFIG]), stream, JsonTable())

    table = JsonTable()
    first = ModelSet.from_paths([CONFIG], checkpoint_every=0)
    before, _ = run(first, stream[:cut], table)
    first.checkpoint(table)
    restarted = ModelSet.from_paths([CONFIG], checkpoint_every=0)
    after, _ = run(restarted, stream[cut:], table)
    assert before + after == uninterrupted


def test_a_checkpoint_of_another_version_is_refused() -> None:
    state: dict[str, Any] = {}
    models = ModelSet.from_paths([CONFIG])
    models.checkpoint(state)
    key = checkpoint_key("actor_behaviour")
    state[key] = {**state[key], "version": 99}
    with pytest.raises(CheckpointError, match="version 99"):
        ModelSet.from_paths([CONFIG]).restore(state)
