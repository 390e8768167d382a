"""Issue 6's acceptance, on a seed the detectors were not tuned on.

The detectors and features were tuned on simulator seeds 1 to 5 only. This
runs the shipped rules and detectors over the default simulation (7 days, 40
people, 8 services, every attack type) of held-out seed 17 (first run after
the last change to the detectors; NOTES.md lists ten held-out seeds),
prequentially, and
checks what the issue asks: every attack type detected by a rule or a default
detector, at most one false alert per 10,000 events, and the online behaviour
model ranking attack events at least as well (PR-AUC) as the offline
IsolationForest fitted on the stream's history. About a minute on this machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.events import AuditEvent
from pipeline.evaluate import Evaluation, measure, run_stream
from pipeline.evaluate.run import BASELINE
from pipeline.simulate import ATTACK_TYPES, SimulationConfig, simulate

ROOT = Path(__file__).absolute().parents[2]
HELD_OUT_SEED = 17


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    stream = simulate(SimulationConfig(seed=HELD_OUT_SEED))
    events = (AuditEvent.model_validate(item.data) for item in stream.events)
    return measure(run_stream(events, ROOT / "config" / "detectors", ROOT / "config" / "rules"))


def test_every_attack_type_is_detected_by_a_rule_or_a_default_detector(evaluation: Evaluation) -> None:
    missed = sorted({a.type for a in evaluation.attacks if not a.detected_by})
    assert {a.type for a in evaluation.attacks} == set(ATTACK_TYPES)
    assert not missed, f"attack types missed: {missed}"
    assert evaluation.all_detected


def test_false_alerts_are_at_most_one_per_ten_thousand_events(evaluation: Evaluation) -> None:
    listing = "\n".join(f"{a.time} {a.source}: {a.description}" for a in evaluation.false_alerts)
    assert evaluation.default_false_per_10k <= 1.0, listing


def test_the_online_behaviour_model_ranks_attacks_at_least_as_well_as_isolation_forest(
    evaluation: Evaluation,
) -> None:
    auc = {s.name: s.pr_auc for s in evaluation.sources}
    behaviour, forest = auc["actor_behaviour"], auc[BASELINE]
    assert behaviour is not None and forest is not None
    assert behaviour >= forest, f"actor_behaviour PR-AUC {behaviour:.3f} < IsolationForest {forest:.3f}"
