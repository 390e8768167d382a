"""An unmodified SigmaHQ correlation (referring to its rule by id) loads and counts as published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset

HERE = Path(__file__).parent / "sigmahq" / "correlations"
START = 1_767_225_600


def sshd_failure(number: int, user: str = "admin", client: str = "203.0.113.50") -> AuditEvent:
    """An sshd failure as a SIEM that names its fields user_name, client_ip, deviceProcessName keeps it."""
    line = f"Failed password for {user} from {client} port {40000 + number} ssh2"
    return AuditEvent.model_validate(
        {
            "event_id": f"ssh-{number}",
            "time": START + number * 10,
            "actor": {"id": user},
            "action": "ssh_login",
            "category": "authentication",
            "outcome": "failure",
            "origin": {"system": "linux.sshd", "service": "sshd"},
            "raw": {
                "message": line,
                "user_name": user,
                "client_ip": client,
                "deviceProcessName": "sshd",
                "host": "web-1",
            },
        }
    )


def test_the_brute_force_correlation_counts_fifty_failures_in_fifteen_minutes() -> None:
    ruleset = load_ruleset([HERE])
    (correlation,) = ruleset.correlations
    assert correlation.key == "f55634e2-baa3-489b-bbce-0c9818cf62ee"
    assert correlation.spec.rules == ("f698fb2a-f888-4b4f-b309-fcc56d7096b5",)
    (detection,) = ruleset.detections
    assert not detection.emits  # referred to by a correlation without generate
    engine, state = RuleEngine(ruleset), dict[str, Any]()
    findings = [f for n in range(60) for f in engine.evaluate(sshd_failure(n), state).findings]
    assert [(f.rule_id, f.count, f.group) for f in findings] == [
        (correlation.key, 50, {"client_ip": "203.0.113.50", "host": "web-1"})
    ]


def test_private_sources_and_other_accounts_are_left_out() -> None:
    engine, state = RuleEngine(load_ruleset([HERE])), dict[str, Any]()
    private = [sshd_failure(n, client="10.1.2.3") for n in range(60)]
    unusual_account = [sshd_failure(100 + n, user="jsmith") for n in range(60)]
    found: list[Any] = [f for e in private + unusual_account for f in engine.evaluate(e, state).findings]
    assert found == []


def test_generate_true_keeps_the_rule_alerting(tmp_path: Path) -> None:
    text = (HERE / "correlation_lnx_sshd_brute_force_attempt.yml").read_text()
    (tmp_path / "r.yml").write_text(
        text.replace("    type: event_count\n", "    type: event_count\n    generate: true\n")
    )
    ruleset = load_ruleset([tmp_path])
    assert ruleset.detections[0].emits
