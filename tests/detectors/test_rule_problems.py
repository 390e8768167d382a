"""Every mistake in a rule file is reported once, with its line and what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.errors import RuleLoadError
from detectors.rules import load_ruleset

# Ten different mistakes, one per marked line.
TEN_MISTAKES = """\
title: Failed console login
id: not-a-uuid
name: console_failure
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName|sounds_like: ConsoleLogin
    sourceIPAddress|cidr: 10.0.0.300/8
    userAgent|re: '(?<=curl)/7'
    userIdentity.arn|expand: '%admins%'
  condition: selection and not filter
level: severe
colour: red
---
title: Console failure burst
name: console_failure_burst
correlation:
  type: event_count
  rules:
    - console_failures
  group-by: [userIdentity.arn]
  timespan: sixty seconds
  condition:
    gte: 5
x-auditwatch:
  allowed_lateness: 30s
  after_fire: forget
"""

EXPECTED = {
    2: "id: Sigma rule identifier must be an UUID",
    9: "modifier 'sounds_like'",
    10: "Invalid CIDR expression",
    11: "not valid for RE2",
    12: "placeholder %admins% is not bound",
    13: "condition names 'filter', which is not a selection",
    14: "level: 'severe' is not a valid Sigma rule level",
    15: "colour: unknown key",
    22: "no rule named 'console_failures'",
    24: "correlation.timespan: Timespan 'sixty seconds' is invalid",
    29: "x-auditwatch.after_fire: Input should be 'reset' or 'keep'",
}


def test_a_file_with_ten_mistakes_gets_a_message_for_each_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(TEN_MISTAKES)
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    problems = caught.value.problems
    found = {p.line: p.message for p in problems}
    for line, text in EXPECTED.items():
        assert line in found, f"no problem reported at line {line} ({text}); got {found}"
        assert text in found[line], (line, found[line])
    assert len(problems) == len(EXPECTED), [str(p) for p in problems]
    assert all(str(p).startswith(f"{path}:{p.line}: ") for p in problems)


@pytest.mark.parametrize(
    ("document", "line", "message"),
    [
        (
            "title: t\nname: n\ncorrelation:\n  type: value_sum\n  rules: [x]\n  timespan: 1m\n"
            "  condition: {gte: 1, field: a}\n",
            4,
            "not supported; supported: event_count, value_count, temporal",
        ),
        (
            "title: t\nname: n\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  timespan: 1m\n"
            "  condition: a and not b\n",
            7,
            "write a sequence whose last step is absent",
        ),
        (
            "title: t\nlogsource: {category: process_creation}\ndetection: {s: {a: 1}, condition: s}\n",
            2,
            "matches no audit event",
        ),
        (
            "title: t\nlogsource: {product: aws}\ndetection: {s: {a: 1}, condition: 's | count() > 3'}\n",
            3,
            "write a correlation rule",
        ),
        ("title: t\naction: global\n", 2, "'action' documents (global/repeat) are not supported"),
        (
            "title: t\nname: n\ncorrelation:\n  type: sequence\n  timespan: 1m\n  steps:\n"
            "    - {rule: a, absent: true}\n"
            "    - {rule: b}\n",
            6,
            "the first step cannot be absent",
        ),
        (
            "title: t\nlogsource: {product: aws}\ndetection: {s: {a: 1}, condition: s}\n"
            "x-auditwatch:\n  tests:\n"
            "    - name: x\n      event: {action: a}\n      expect: maybe\n",
            8,
            "expect",
        ),
    ],
)
def test_unsupported_things_are_refused_at_their_line(
    tmp_path: Path, document: str, line: int, message: str
) -> None:
    (tmp_path / "r.yml").write_text(document)
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    found = {p.line: p.message for p in caught.value.problems}
    assert line in found and message in found[line], found


def test_names_defined_twice_and_correlation_cycles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "title: a\nname: same\nlogsource: {product: aws}\ndetection: {s: {a: 1}, condition: s}\n---\n"
        "title: b\nname: same\nlogsource: {product: aws}\ndetection: {s: {a: 1}, condition: s}\n"
    )
    (tmp_path / "b.yml").write_text(
        "title: c1\nname: c1\n"
        "correlation: {type: event_count, rules: [c2], timespan: 1m, condition: {gte: 2}}\n---\n"
        "title: c2\nname: c2\n"
        "correlation: {type: event_count, rules: [c1], timespan: 1m, condition: {gte: 2}}\n"
    )
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "a.yml:6: rule 'same' is defined twice (also at" in text
    assert "b.yml:3: correlation: correlations use each other in a cycle" in text


def test_an_override_for_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "local.yml").write_text("override: nope\nexceptions:\n  - {name: x, values: [[a]]}\n")
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([tmp_path])
    assert "override: no rule named 'nope'" in str(caught.value)
