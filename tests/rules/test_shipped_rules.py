"""The built-in rule library: it loads, every rule is tested, and every test passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.rules import load_ruleset
from detectors.rules.ruleset import CompiledCorrelation
from detectors.rules.testing import run_rule_tests
from pipeline.cli_rules import adapt_record

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "rules"
RULESET = load_ruleset([RULES])
OUTCOMES = run_rule_tests(RULESET, adapt_record)


def test_the_library_has_at_least_thirty_rules_in_theme_files() -> None:
    assert len(RULESET) >= 30
    themes = {Path(rule.meta.file).stem for rule in RULESET.rules}
    assert {
        "authentication",
        "authorization",
        "privilege",
        "defense_evasion",
        "discovery_exfiltration",
        "access",
    } <= themes


@pytest.mark.parametrize("rule", RULESET.rules, ids=lambda r: r.key)
def test_every_rule_has_single_event_tests_and_correlations_have_timelines(rule: object) -> None:
    tests = rule.meta.options.tests  # type: ignore[attr-defined]
    single = [t for t in tests if not t.is_timeline]
    assert any(t.expect == "match" for t in single), "needs a single-event test that matches"
    assert any(t.expect == "no_match" for t in single) or isinstance(rule, CompiledCorrelation)
    if isinstance(rule, CompiledCorrelation):
        assert any(t.is_timeline and t.expect for t in tests), (
            "a correlation needs a timeline test that alerts"
        )


@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: f"{o.rule}: {o.name}")
def test_rule_test_passes(outcome: object) -> None:
    assert outcome.passed, f"{outcome.file}:{outcome.line}: {outcome.message}"  # type: ignore[attr-defined]
