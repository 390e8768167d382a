"""The behaviour runner's entity profiles follow AnomalyFilter semantics: a flagged burst teaches nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from detectors.events import AuditEvent
from detectors.models import load_detector_specs
from detectors.models.runners import BehaviourRunner, StateStore
from detectors.models.spec import BehaviourSpec

CONFIG = Path(__file__).absolute().parents[2] / "config" / "detectors"
START = datetime(2026, 3, 2, 0, tzinfo=UTC)


def event(seconds: float, actor: str, resource: str, ip: str = "198.51.100.7") -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"{actor}-{seconds}-{resource}",
            "time": START + timedelta(seconds=seconds),
            "actor": {"id": actor, "type": "human"},
            "action": "s3.GetObject",
            "category": "api_activity",
            "outcome": "success",
            "source": {
                "ip": ip,
                "user_agent": "Mozilla/5.0",
            },
            "resource": {"name": resource},
            "origin": {"system": "aws.cloudtrail"},
            "extra": {"geo": {"country": "DE"}},
        }
    )


def runner() -> BehaviourRunner:
    spec = next(s for s in load_detector_specs([CONFIG]) if s.name == "actor_behaviour")
    assert isinstance(spec, BehaviourSpec)
    return BehaviourRunner(spec)


def warm(run: BehaviourRunner, state: StateStore, minutes: int) -> None:
    """Five actors reading their own five reports, one event each a minute, around the clock."""
    for minute in range(minutes):
        for a in range(5):
            run.run(event(minute * 60.0 + a, f"user{a}", f"reports/{a}-{minute % 5}"), state)


def test_an_attack_burst_neither_teaches_the_profile_nor_flags_the_normal_events_after_it() -> None:
    run = runner()
    state: StateStore = {}
    warm(run, state, 600)
    t = 600 * 60.0
    burst = [
        run.run(event(t + i, "user0", f"customer-exports/{i}", ip="203.0.113.9"), state) for i in range(60)
    ]
    assert any(finding is not None for _, finding in burst), "the burst itself is flagged"
    # 10 minutes on: its 60 new resources would still count in the hour of new resources
    after = [run.run(event(t + 600 + 60 * i, "user0", f"reports/0-{i % 5}"), state) for i in range(5)]
    assert all(score < run.spec.threshold for score, _ in after), [s for s, _ in after]
    # later in the burst, its new network and folder are still news for user0: the burst taught nothing
    again, _ = run.run(event(t + 1800, "user0", "customer-exports/7", ip="203.0.113.9"), state)
    assert again >= run.spec.threshold
