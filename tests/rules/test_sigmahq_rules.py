"""Unmodified SigmaHQ rules load, match the source records they describe and not near misses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sigma.collection import SigmaCollection

from detectors.engine import RuleEngine
from detectors.errors import RuleLoadError
from detectors.events import AuditEvent
from detectors.rules import load_ruleset
from pipeline.cli_rules import adapt_record

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent / "sigmahq"
FIXTURES: list[dict[str, Any]] = YAML(typ="safe").load((HERE / "fixtures.yml").read_text())
RULESET = load_ruleset([HERE / "rules"])
ENGINE = RuleEngine(RULESET)
LIBRARY = RuleEngine(load_ruleset([REPO / "config" / "rules"]))

# Built-in rules written to behave like a SigmaHQ rule on the same events.
EQUIVALENT = {
    "4db60cc0-36fb-42b7-9b58-a5b53019fb74": "cloudtrail_logging_changed",
    "8ad1600d-e9dc-4251-b0ee-a65268f29add": "aws_root_account_use",
    "c134e006-5aef-49dd-9386-62675a251585": "console_login_without_mfa",
    "50e068d7-1e6b-4054-87e5-0a592c40c7e0": "okta_mfa_factor_removed",
    "413d4a81-6c98-4479-9863-014785fd579c": "okta_admin_role_granted",
    "16a71777-0b2e-4db7-9888-9d59cb75200b": "github_repo_deleted",
    "b5763f7f-9f04-467e-887e-bc9d51b5275a": "github_member_made_admin",
    "ac347d2f-6e07-42bc-8c06-7ad456690c2a": "github_audit_stream_changed",
    "a1b0ca4e-7835-413e-8471-3ff2b8a66be6": "k8s_exec_into_container",
    "3132570d-cab2-4561-9ea6-1743644b2290": "k8s_events_deleted",
    "eeb3e9e1-b685-44e4-9232-6bb701f925b5": "k8s_secrets_listed",
    "10b97915-ec8d-455f-a815-9a78926585f6": "k8s_role_binding_changed",
}


def events_of(entry: Any) -> list[AuditEvent]:
    """A fixture entry (a record, or a vendor sample file) as ingest's events."""
    if isinstance(entry, dict) and "file" in entry:
        text = (REPO / entry["file"]).read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        if "line" in entry:
            return adapt_record(lines[entry["line"] - 1])
        if entry["file"].endswith(".json"):
            return adapt_record(json.loads(text))
        return [event for line in lines for event in adapt_record(line)]
    return adapt_record(entry)


def test_at_least_fifteen_sigmahq_rules_have_fixtures() -> None:
    ids = {fixture["rule"] for fixture in FIXTURES}
    loaded = {rule.meta.id for rule in RULESET.detections}
    assert ids == loaded
    assert len(ids) >= 15
    systems = {event.origin.system for f in FIXTURES for entry in f["match"] for event in events_of(entry)}
    assert {"aws.cloudtrail", "okta", "github.audit", "k8s.audit", "linux.sshd", "linux.auth"} <= systems


def test_pysigma_parses_every_rule_file_as_published() -> None:
    for path in sorted((HERE / "rules").glob("*.yml")):
        collection = SigmaCollection.from_yaml(path.read_text(), collect_errors=True)
        assert not collection.errors, (path.name, collection.errors)
        assert len(collection.rules) == 1


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["title"])
def test_rule_matches_what_it_describes_and_not_near_misses(fixture: dict[str, Any]) -> None:
    rule = RULESET.get(fixture["rule"])
    assert rule is not None
    for entry in fixture["match"]:
        events = events_of(entry)
        assert any(ENGINE.matches(rule.key, e) for e in events), (fixture["title"], entry)
        alerts = [f.rule_id for e in events for f in ENGINE.evaluate(e, {}).findings]
        assert rule.key in alerts
    for entry in fixture["near_miss"]:
        assert not any(ENGINE.matches(rule.key, e) for e in events_of(entry)), (fixture["title"], entry)


@pytest.mark.parametrize(("sigma_id", "ours"), sorted(EQUIVALENT.items()))
def test_builtin_rule_behaves_like_the_sigmahq_rule(sigma_id: str, ours: str) -> None:
    fixture = next(f for f in FIXTURES if f["rule"] == sigma_id)
    for verdict, entries in ((True, fixture["match"]), (False, fixture["near_miss"])):
        for entry in entries:
            events = events_of(entry)
            sigma = any(ENGINE.matches(sigma_id, e) for e in events)
            builtin = any(LIBRARY.matches(ours, e) for e in events)
            assert sigma is verdict and builtin is verdict, (ours, entry)


def test_legacy_aggregations_are_refused_with_a_correlation_hint() -> None:
    with pytest.raises(RuleLoadError) as caught:
        load_ruleset([HERE / "legacy"])
    problems = caught.value.problems
    by_file: dict[str, list[str]] = {}
    for problem in problems:
        by_file.setdefault(Path(problem.file).name, []).append(f"{problem.line}: {problem.message}")
    fatigue = "\n".join(by_file["okta_mfa_fatigue.yml"])
    assert "20: detection.timeframe" in fatigue and "correlation" in fatigue
    assert "21: detection.condition: pipe aggregations" in fatigue
    assert "22: false_positives: unknown key" in fatigue
    linux = "\n".join(by_file["lnx_auth_susp_failed_logons_single_source.yml"])
    assert "20: detection.condition" in linux and "value_count" in linux
