"""Hot reload without Kafka: when to reload, what is refused, and what happens to open windows."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from pipeline.reload import RELOAD_FAILED_RULE, Prepared, ReloadFailure, RuleReloader

REPO = Path(__file__).resolve().parents[2]

NEW_RULE = """\
title: Probe
name: probe
logsource: {product: acme}
detection: {sel: {action: probe}, condition: sel}
level: low
x-auditwatch:
  tests:
    - {name: a probe matches, event: {action: probe, origin: {system: acme.app}}, expect: match}
"""


@dataclass
class Holder:
    engine: RuleEngine


def failure(second: int) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"f{second}",
            "time": 1_767_225_600 + second,
            "actor": {"id": "alice"},
            "action": "login",
            "category": "authentication",
            "outcome": "failure",
            "origin": {"system": "acme.sso"},
        }
    )


def setup(tmp_path: Path) -> tuple[Path, Holder, RuleReloader]:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(REPO / "config" / "rules" / "failed_logins.yml", rules)
    holder = Holder(RuleEngine(load_ruleset([rules])))
    return rules, holder, RuleReloader(holder, rules)


def touch(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_change_is_acted_on_once_it_is_stable_and_sighup_forces_a_reload(tmp_path: Path) -> None:
    rules, _, reloader = setup(tmp_path)
    assert not reloader.due()
    touch(rules / "probe.yml", NEW_RULE)
    assert not reloader.due()  # just written: wait for one more poll
    assert reloader.due()
    reloader.request()
    assert reloader.due()


def test_an_added_rule_is_swapped_in_and_open_windows_survive(tmp_path: Path) -> None:
    rules, holder, reloader = setup(tmp_path)
    state: dict[str, Any] = {}
    for second in (0, 5, 10):
        holder.engine.evaluate(failure(second), state)
    touch(rules / "probe.yml", NEW_RULE)
    prepared = reloader.prepare()
    assert isinstance(prepared, Prepared)
    lines = reloader.commit(prepared)
    assert lines[0].startswith("rules reloaded: 3 rules (1 added, 0 removed, 0 changed)")
    assert "rules added: probe" in lines
    found = [f.rule_id for s in (15, 20) for f in holder.engine.evaluate(failure(s), state).findings]
    assert found == ["failed_login_burst"]  # three failures before the reload, two after


def test_a_changed_correlation_is_reset_and_says_so(tmp_path: Path) -> None:
    rules, holder, reloader = setup(tmp_path)
    state: dict[str, Any] = {}
    for second in (0, 5, 10):
        holder.engine.evaluate(failure(second), state)
    path = rules / "failed_logins.yml"
    touch(path, path.read_text().replace("allowed_lateness: 30s", "allowed_lateness: 20s"))
    prepared = reloader.prepare()
    assert isinstance(prepared, Prepared)
    assert "correlations changed, their open windows reset: failed_login_burst" in reloader.commit(prepared)
    found = [f for s in (15, 20, 25, 30) for f in holder.engine.evaluate(failure(s), state).findings]
    assert found == []  # counting restarted: four of the five needed
    assert [f.count for f in holder.engine.evaluate(failure(35), state).findings] == [5]


def test_a_broken_file_or_a_failing_test_keeps_the_old_rules_and_makes_an_alert(tmp_path: Path) -> None:
    rules, holder, reloader = setup(tmp_path)
    before = holder.engine
    touch(
        rules / "broken.yml",
        "title: x\nlogsource: {product: acme}\ndetection: {sel: {a|nope: 1}, condition: sel}\n",
    )
    refused = reloader.prepare()
    assert isinstance(refused, ReloadFailure) and holder.engine is before
    assert "broken.yml:3:" in refused.problems[0] and "nope" in refused.problems[0]
    alert = reloader.failure_alert(refused)
    assert alert.rule_id == RELOAD_FAILED_RULE and alert.severity.label == "high"
    assert alert.evidence[0]["problem"] == refused.problems[0]
    assert not reloader.due()  # the same broken files are not retried on every poll

    (rules / "broken.yml").unlink()
    touch(rules / "probe.yml", NEW_RULE.replace("expect: match", "expect: no_match"))
    failed_test = reloader.prepare()
    assert isinstance(failed_test, ReloadFailure) and failed_test.reason == "1 rule test(s) failed"
    assert "probe: a probe matches: expected no_match" in failed_test.problems[0]
    assert holder.engine is before
