"""A detector's finding feeds a rule correlation through ``Stages`` with a real ``ModelSet``.

A rate detector (``login_rate``) flags a burst of logins; a correlation names it and
fires when an Okta admin grant follows within 30 minutes in the same tenant.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detectors.errors import RuleLoadError
from detectors.events import AuditEvent
from pipeline.cli import app
from pipeline.config import load_config
from pipeline.stages import Stages, build_stages
from tests.pipeline.test_models_wiring import BASE, RATE_DETECTOR, steady_then_spike, write_config

RULES = """\
title: Okta admin role granted (test)
name: okta_grant
logsource: {product: okta, service: okta}
detection:
  selection:
    action: user.account.privilege.grant
  condition: selection
level: medium
---
title: Login burst, then an admin grant
name: login_burst_then_grant
correlation:
  type: temporal_ordered
  rules: [login_rate, okta_grant]
  group-by: [tenant_id]
  timespan: 30m
level: high
"""
RULE = "login_burst_then_grant"


def grant(minute: int) -> dict[str, Any]:
    return {
        "event_id": f"grant-{minute}",
        "time": (BASE + timedelta(minutes=minute)).isoformat(),
        "tenant_id": "acme",
        "actor": {"id": "u1", "type": "human"},
        "action": "user.account.privilege.grant",
        "category": "account_change",
        "outcome": "success",
        "origin": {"system": "okta"},
    }


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    (tmp_path / "dets").mkdir()
    (tmp_path / "dets" / "rate.yml").write_text(RATE_DETECTOR)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "burst.yml").write_text(RULES)
    return write_config(tmp_path, {"dir": "dets", "enabled": True})


def rule_ids(stages: Stages, records: list[dict[str, Any]]) -> list[str]:
    state: dict[str, Any] = {}
    found = []
    for record in records:
        for alert in stages.detect(AuditEvent.model_validate(record), state):
            found.append(alert.rule_id)
    return found


def test_a_rate_finding_then_a_grant_within_the_window_fires_the_correlation(config_path: Path) -> None:
    stages = build_stages(load_config(config_path))
    assert stages.detector_names == ("login_rate",)
    found = rule_ids(stages, [*steady_then_spike(), grant(85)])
    assert found.count("login_rate") == 1
    assert found.count(RULE) == 1
    assert found.index("login_rate") < found.index(RULE)


def test_no_correlation_when_the_grant_is_too_late_or_there_is_no_burst(config_path: Path) -> None:
    stages = build_stages(load_config(config_path))
    late = rule_ids(stages, [*steady_then_spike(), grant(79 + 31)])
    assert "login_rate" in late and RULE not in late
    stages = build_stages(load_config(config_path))
    quiet = rule_ids(stages, [*steady_then_spike()[:300], grant(62)])
    assert "login_rate" not in quiet and RULE not in quiet


def test_the_rules_do_not_load_without_the_detector_declared(config_path: Path) -> None:
    (config_path.parent / "dets" / "rate.yml").write_text(RATE_DETECTOR.replace("login_rate", "other_rate"))
    with pytest.raises(
        RuleLoadError, match=r"burst\.yml:\d+: correlation\.rules\.0: no rule named 'login_rate'"
    ):
        build_stages(load_config(config_path))


def test_rules_lint_accepts_declared_detector_names_and_rejects_others(config_path: Path) -> None:
    rules, dets = str(config_path.parent / "rules"), str(config_path.parent / "dets")
    runner = CliRunner()
    ok = runner.invoke(app, ["rules", "lint", rules, "--detectors", dets])
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["rules", "lint", rules, "--detectors", str(config_path.parent / "none")])
    assert missing.exit_code == 1
    assert "burst.yml:" in missing.output and "'login_rate'" in missing.output
    via_config = runner.invoke(app, ["rules", "test", rules, "--config", str(config_path)])
    assert via_config.exit_code == 0, via_config.output


def test_shipped_config_loads_the_shipped_detector_correlation() -> None:
    repo = Path(__file__).resolve().parents[2]
    stages = build_stages(load_config(repo / "config" / "auditwatch.yaml"))
    assert "actor_behaviour" in stages.detector_names
    assert [c.key for c in stages.engine.ruleset.consumers("actor_behaviour")] == [
        "anomalous_login_then_admin_grant"
    ]


def test_a_config_without_models_loads_the_shipped_rules_that_name_a_detector(tmp_path: Path) -> None:
    """A worker config that never set up the models (no ``detectors`` folder beside it)
    still loads ``config/rules``, whose correlation names ``actor_behaviour``: the
    detectors declared beside the rules count, as they do for ``rules lint``."""
    repo = Path(__file__).resolve().parents[2]
    config_file = tmp_path / "auditwatch.yaml"
    config_file.write_text(f"rules:\n  dir: {repo / 'config' / 'rules'}\n")
    config = load_config(config_file)
    assert not config.detectors.enabled and not config.detectors.dir.exists()
    stages = build_stages(config)
    assert stages.models is None
    assert "actor_behaviour" in stages.detector_names


def test_models_off_with_a_detectors_dir_that_declares_nothing_still_loads_the_shipped_rules(
    tmp_path: Path,
) -> None:
    """``detectors.dir`` exists but holds no detector files (here: an empty folder)."""
    repo = Path(__file__).resolve().parents[2]
    (tmp_path / "detectors").mkdir()
    config_file = tmp_path / "auditwatch.yaml"
    config_file.write_text(f"rules:\n  dir: {repo / 'config' / 'rules'}\n")
    config = load_config(config_file)
    assert config.detectors.dir.exists() and not config.detectors.enabled
    assert "actor_behaviour" in build_stages(config).detector_names
