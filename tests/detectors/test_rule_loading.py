"""Loading rule files: the shipped rules load, and mistakes are reported with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.errors import RuleLoadError
from detectors.rules import load_ruleset

REPO = Path(__file__).resolve().parents[2]

BROKEN = """\
title: Failed login
name: failed_login
logsource:
  category: authentication
detection:
  selection:
    outcome|sounds_like: failure
  condition: selection
level: severe
---
title: Burst
name: burst
correlation:
  type: event_count
  rules:
    - no_such_rule
  group-by: [actor.id]
  timespan: sixty seconds
  condition:
    gte: 5
colour: red
"""


def test_shipped_rules_load() -> None:
    ruleset = load_ruleset([REPO / "config" / "rules"])
    keys = {c.key for c in ruleset.correlations}
    assert "failed_login_burst" in keys
    burst = next(c for c in ruleset.correlations if c.key == "failed_login_burst")
    assert burst.spec.timespan == 60
    assert burst.spec.threshold == 5
    assert burst.spec.group_by == ("actor.id",)


def test_every_mistake_is_reported_with_its_line(tmp_path: Path) -> None:
    rule = tmp_path / "broken.yml"
    rule.write_text(BROKEN)
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    by_line = {p.line: p.message for p in caught.value.problems}
    assert "level" in by_line[9]
    assert "timespan" in by_line[18]
    assert "unknown key" in by_line[21] and "colour" in by_line[21]
    # The detection with an unknown modifier is refused too, at its line.
    messages = "\n".join(str(p) for p in caught.value.problems)
    assert f"{rule}:9:" in messages


def test_unknown_modifier_and_dangling_reference_are_located(tmp_path: Path) -> None:
    text = BROKEN.replace("level: severe", "level: low").replace("timespan: sixty seconds", "timespan: 60s")
    text = text.replace("colour: red\n", "")
    (tmp_path / "r.yml").write_text(text)
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    lines = {p.line: p.message for p in caught.value.problems}
    assert "sounds_like" in lines[7]
    assert "no_such_rule" in lines[16]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("title: x\ndetection:\n  sel: [unclosed\n")
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    problem = caught.value.problems[0]
    assert problem.line >= 3
    assert "YAML syntax error" in problem.message
