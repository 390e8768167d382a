"""The anomaly models wired into the pipeline: config, stages, replay, per-partition checkpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detectors.events import AuditEvent
from detectors.models import DetectorConfigError, ModelSet
from detectors.models.modelset import checkpoint_key
from pipeline.cli import app
from pipeline.config import AuditwatchConfig, load_config
from pipeline.errors import ConfigError
from pipeline.partition_models import PartitionModels
from pipeline.replay import ReplayOutputs, replay
from pipeline.simulate import SimulationConfig, simulate
from pipeline.stages import build_stages

REPO = Path(__file__).resolve().parents[2]
RATE_DETECTOR = """\
detector:
  type: rate
  name: login_rate
  title: Change in the login rate
  level: high
  events:
    category: authentication
  group-by: [tenant_id]
  interval: 1m
  direction: up
  warm-up: 10
  threshold: 0.999
  cooldown: 1h
"""
BASE = datetime(2026, 3, 2, tzinfo=UTC)


def login(i: int, minute: int, second: int, actor: str | None = None) -> dict[str, Any]:
    return {
        "event_id": f"e{i}",
        "time": (BASE + timedelta(minutes=minute, seconds=second)).isoformat(),
        "tenant_id": "acme",
        "actor": {"id": actor or f"u{i % 7}", "type": "human"},
        "action": "login",
        "category": "authentication",
        "outcome": "success",
        "origin": {"system": "test"},
    }


def steady_then_spike() -> list[dict[str, Any]]:
    """Five logins a minute for 79 minutes, then sixty in one minute: one rate spike."""
    events, i = [], 0
    for minute in range(80):
        for k in range(5 if minute < 79 else 60):
            i += 1
            events.append(login(i, minute, k % 60))
    return events


def write_config(tmp_path: Path, detectors: dict[str, Any] | None, rule_dir: Path | None = None) -> Path:
    rules = rule_dir or tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    document: dict[str, Any] = {"rules": {"dir": str(rules)}}
    if detectors is not None:
        document["detectors"] = detectors
    path = tmp_path / "auditwatch.yaml"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def detectors_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "dets"
    directory.mkdir()
    (directory / "rate.yml").write_text(RATE_DETECTOR)
    return directory


def test_detectors_dir_is_relative_to_the_config_file_and_off_unless_enabled(tmp_path: Path) -> None:
    assert AuditwatchConfig().detectors.enabled is False
    config = load_config(write_config(tmp_path, {"dir": "dets", "enabled": True}))
    assert config.detectors.dir == tmp_path / "dets"
    assert config.detectors.enabled is True
    assert load_config(write_config(tmp_path, None)).detectors.enabled is False


def test_a_typo_in_the_detectors_section_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "auditwatch.yaml"
    path.write_text("rules:\n  dir: rules\ndetectors:\n  dir: dets\n  enable: true\n")
    with pytest.raises(ConfigError, match=r"auditwatch\.yaml:5: detectors\.enable: unknown key"):
        load_config(path)


def test_the_shipped_config_turns_the_default_detectors_on() -> None:
    config = load_config(REPO / "config" / "auditwatch.yaml")
    assert config.detectors.enabled
    assert config.detectors.dir == REPO / "config" / "detectors"
    stages = build_stages(config)
    assert stages.models is not None
    assert {"actor_behaviour", "auth_failure_rate", "service_rate"} <= set(stages.models.names)


def test_build_stages_runs_no_models_when_they_are_off(tmp_path: Path, detectors_dir: Path) -> None:
    config = load_config(write_config(tmp_path, {"dir": str(detectors_dir), "enabled": False}))
    assert build_stages(config).models is None


def test_a_broken_detector_file_stops_build_stages_with_its_file_and_line(
    tmp_path: Path, detectors_dir: Path
) -> None:
    (detectors_dir / "rate.yml").write_text(RATE_DETECTOR.replace("interval: 1m", "intervall: 1m"))
    config = load_config(write_config(tmp_path, {"dir": str(detectors_dir), "enabled": True}))
    with pytest.raises(DetectorConfigError, match=r"rate\.yml:\d+.*intervall"):
        build_stages(config)


def test_replay_command_reports_a_broken_detector_file_and_exits_2(
    tmp_path: Path, detectors_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (detectors_dir / "rate.yml").write_text(RATE_DETECTOR.replace("level: high", "level: loud"))
    config = write_config(tmp_path, {"dir": str(detectors_dir), "enabled": True})
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(login(1, 0, 0)) + "\n")
    result = CliRunner().invoke(app, ["replay", str(events), "--config", str(config), "--no-send"])
    assert result.exit_code == 2
    assert "rate.yml:" in result.output and "problem(s) in the detectors" in result.output
    assert "Traceback" not in result.output


def test_stages_detect_turns_model_findings_into_alerts(tmp_path: Path, detectors_dir: Path) -> None:
    stages = build_stages(load_config(write_config(tmp_path, {"dir": str(detectors_dir), "enabled": True})))
    state: dict[str, Any] = {}
    alerts = [
        alert
        for data in steady_then_spike()
        for alert in stages.detect(AuditEvent.model_validate(data), state)
    ]
    (alert,) = alerts
    assert alert.rule_id == "login_rate"
    assert "Rate spike" in (alert.description or "")
    assert any(key.startswith("model|login_rate|acme|") for key in state)


async def test_replay_alerts_on_anomalies(tmp_path: Path, detectors_dir: Path) -> None:
    config = load_config(write_config(tmp_path, {"dir": str(detectors_dir), "enabled": True}))
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in steady_then_spike()))
    stats = await replay([str(source)], build_stages(config), None, ReplayOutputs(progress=False))
    assert stats.alerts_by_rule == {"login_rate": 1}


def events_for(count: int, actors: int = 12) -> list[AuditEvent]:
    return [
        AuditEvent.model_validate(login(i, i // 5, (i * 7) % 60, actor=f"a{i % actors}"))
        for i in range(count)
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_partition_has_its_own_models_and_checkpoint_scope(detectors_dir: Path) -> None:
    models = PartitionModels(
        ModelSet.from_paths([detectors_dir], checkpoint_every=0), every_events=150, every_seconds=3600
    )
    state: dict[str, Any] = {}
    assert models.get(0, state) is models.get(0, state)
    assert models.get(0, state) is not models.get(1, state)
    assert models.partitions == [0, 1]
    for event in events_for(200):
        models.get(0, state).evaluate(event, state)
    assert models.checkpoint([0, 1], state) == [0]  # partition 1 is not due: one event
    assert checkpoint_key("login_rate", "p0") in state
    assert checkpoint_key("login_rate", "p1") not in state


def test_by_default_every_batch_checkpoints_the_partitions_it_touched(detectors_dir: Path) -> None:
    models = PartitionModels(ModelSet.from_paths([detectors_dir], checkpoint_every=0))
    state: dict[str, Any] = {}
    for event in events_for(3):
        models.get(2, state).evaluate(event, state)
    models.get(5, state)
    assert models.checkpoint([2], state) == [2]
    assert models.checkpoint([2, 5], state) == [5]  # 2 ran nothing since


def test_a_partition_is_checkpointed_when_enough_events_or_time_passed(detectors_dir: Path) -> None:
    clock = Clock()
    models = PartitionModels(
        ModelSet.from_paths([detectors_dir], checkpoint_every=0),
        every_events=100,
        every_seconds=10,
        clock=clock,
    )
    state: dict[str, Any] = {}
    events = events_for(260)
    for event in events[:99]:
        models.get(0, state).evaluate(event, state)
    assert models.checkpoint([0], state) == []
    assert checkpoint_key("login_rate", "p0") not in state
    models.get(0, state).evaluate(events[99], state)
    assert models.checkpoint([0], state) == [0]  # 100 events
    written = state[checkpoint_key("login_rate", "p0")]
    assert models.checkpoint([0], state) == []  # nothing new
    models.get(0, state).evaluate(events[100], state)
    clock.now = 10.0
    assert models.checkpoint([0], state) == [0]  # 10 seconds
    assert state[checkpoint_key("login_rate", "p0")]["events"] > written["events"]


def test_a_revoked_partition_is_checkpointed_then_resumes_warm() -> None:
    """Through JSON (as the changelog stores it), the resumed models score as the uninterrupted ones."""
    template = ModelSet.from_paths([REPO / "config" / "detectors"], checkpoint_every=0)
    stream = [AuditEvent.model_validate(i.data) for i in simulate(SimulationConfig(seed=5, days=2)).events]
    head, tail = stream[:3000], stream[3000:3600]

    reference_state: dict[str, Any] = {}
    state: dict[str, Any] = {}
    uninterrupted = PartitionModels(template)
    restarted = PartitionModels(template, every_events=10**9, every_seconds=10**9)
    for event in head:
        uninterrupted.get(3, reference_state).run(event, reference_state)
        restarted.get(3, state).run(event, state)
    assert restarted.checkpoint([3], state) == []  # not due
    restarted.forget([3], state)
    assert restarted.partitions == []
    state = json.loads(json.dumps(state))
    expected = [uninterrupted.get(3, reference_state).run(e, reference_state).scores for e in tail]
    resumed = [restarted.get(3, state).run(e, state).scores for e in tail]
    assert resumed == expected
    cold_state: dict[str, Any] = {}
    cold = [PartitionModels(template).get(3, cold_state).run(e, cold_state).scores for e in tail]
    assert cold != expected


def test_an_unreadable_checkpoint_is_logged_and_the_partition_starts_cold(
    detectors_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state: dict[str, Any] = {checkpoint_key("login_rate", "p4"): {"format": "something.else", "version": 9}}
    models = PartitionModels(ModelSet.from_paths([detectors_dir], checkpoint_every=0))
    with caplog.at_level("ERROR", logger="auditwatch.models"):
        partition = models.get(4, state)
    assert "models of partition 4 start cold" in caplog.text and "something.else" in caplog.text
    partition.evaluate(events_for(1)[0], state)
    assert models.checkpoint([4], state) == [4]
    assert state[checkpoint_key("login_rate", "p4")]["format"] == "auditwatch.model-checkpoint"


class FailingWrites(dict[str, Any]):
    def __setitem__(self, key: str, value: Any) -> None:
        raise OSError("changelog unavailable")


def test_a_revoked_partition_is_dropped_even_when_its_checkpoint_fails(detectors_dir: Path) -> None:
    models = PartitionModels(ModelSet.from_paths([detectors_dir], checkpoint_every=0))
    state: dict[str, Any] = {}
    for event in events_for(5):
        models.get(1, state).evaluate(event, state)
    with pytest.raises(OSError, match="changelog unavailable"):
        models.forget([1], FailingWrites())
    assert models.partitions == []
