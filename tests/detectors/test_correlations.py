"""Correlations over event time: every type and condition, aliases, chaining, and their state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.findings import Finding
from detectors.rules import load_ruleset
from detectors.rules.windows import MAX_VALUES

START = 1_767_225_600  # 2026-01-01T00:00:00Z

DETECTIONS = """\
title: a
name: rule_a
logsource: {product: acme}
detection: {sel: {action: a}, condition: sel}
---
title: b
name: rule_b
logsource: {product: acme}
detection: {sel: {action: b}, condition: sel}
---
title: c
name: rule_c
logsource: {product: acme}
detection: {sel: {action: c}, condition: sel}
"""


def engine_for(tmp_path: Path, correlations: str, name: str = "rules.yml") -> RuleEngine:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(DETECTIONS + "---\n" + correlations)
    return RuleEngine(load_ruleset([folder]))


def ev(
    action: str, second: float, actor: str = "alice", number: int | None = None, **extra: Any
) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "event_id": f"{action}-{actor}-{second}-{number}",
            "time": START + second,
            "actor": {"id": actor},
            "action": action,
            "origin": {"system": "acme.app"},
            **extra,
        }
    )


def run(engine: RuleEngine, events: list[AuditEvent], state: dict[str, Any] | None = None) -> list[Finding]:
    state = {} if state is None else state
    return [f for e in events for f in engine.evaluate(e, state).findings]


def at(finding: Finding) -> float:
    return finding.last_seen.timestamp() - START


def test_event_count_eq_is_judged_when_the_window_closes(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: three\nname: exactly_three\ncorrelation: {type: event_count, rules: [rule_a], "
        "group-by: [actor.id], timespan: 1m, condition: {eq: 3}}\n",
    )
    state: dict[str, Any] = {}
    found = run(engine, [ev("a", s, number=s) for s in (0, 10, 20)], state)
    assert found == []  # the window is still open
    found = run(engine, [ev("z", 61, actor="someone-else")], state)  # the watermark passes its end
    assert [(f.rule_id, f.count, f.threshold) for f in found] == [("exactly_three", 3, "== 3 in 1m")]
    four = run(engine, [ev("a", 100 + s, number=s) for s in (0, 1, 2, 3)], state)
    assert four + engine.advance(state, START + 1000) == []


def test_event_count_gt_lt_and_tumbling_windows(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: gt\nname: more_than_two\ncorrelation: {type: event_count, rules: [rule_a], timespan: 1m, "
        "condition: {gt: 2}}\n---\n"
        "title: lt\nname: fewer_than_two_b\ncorrelation: {type: event_count, rules: [rule_b], timespan: 1m, "
        "condition: {lt: 2}}\n---\n"
        "title: tumbling\nname: tumbling_c\ncorrelation: {type: event_count, rules: [rule_c], timespan: 1m, "
        "condition: {gte: 3}}\nx-auditwatch: {window: tumbling}\n",
    )
    state: dict[str, Any] = {}
    found = run(engine, [ev("a", s, number=s) for s in (0, 1, 2)], state)
    assert [(f.rule_id, f.count) for f in found] == [("more_than_two", 3)]
    # 58, 59 and 61 lie within a minute but not within one aligned minute.
    found = run(engine, [ev("c", s, number=s) for s in (58, 59, 61)], state)
    found += run(engine, [ev("b", 70)], state)
    found += engine.advance(state, START + 300)
    assert [(f.rule_id, f.count) for f in found] == [("fewer_than_two_b", 1)]


def test_after_fire_keep_fires_again_while_the_window_stays_full(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: keep\nname: keep\ncorrelation: {type: event_count, rules: [rule_a], timespan: 1m, "
        "condition: {gte: 3}}\nx-auditwatch: {after_fire: keep}\n",
    )
    found = run(engine, [ev("a", s, number=s) for s in range(6)])
    assert [f.count for f in found] == [3, 3, 3, 3]


def test_value_count_counts_distinct_values_and_resets_after_firing(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: spray\nname: spray\ncorrelation: {type: value_count, rules: [rule_a], group-by: [source.ip], "
        "timespan: 10m, condition: {gte: 3, field: actor.id}}\n",
    )
    ip = {"source": {"ip": "192.0.2.1"}}
    events = [
        ev("a", 0, "u1", **ip),
        ev("a", 1, "u1", 1, **ip),
        ev("a", 2, "u2", **ip),
        ev("a", 3, "u3", **ip),
    ]
    events += [ev("a", 4, "u4", **ip), ev("a", 5, "u5", **ip), ev("a", 6, "u6", **ip)]
    found = run(engine, events)
    assert [(f.count, f.group, at(f)) for f in found] == [
        (3, {"source.ip": "192.0.2.1"}, 3),
        (3, {"source.ip": "192.0.2.1"}, 6),
    ]
    assert found[0].threshold == ">= 3 distinct actor.id in 10m"


def test_value_count_state_is_bounded(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: many\nname: many\ncorrelation: {type: value_count, rules: [rule_a], timespan: 1d, "
        "condition: {gte: 100000, field: actor.id}}\n",
    )
    state: dict[str, Any] = {}
    run(engine, [ev("a", i / 100, f"user{i}") for i in range(MAX_VALUES + 200)], state)
    (value,) = [v for k, v in state.items() if k.startswith("many|")]
    assert len(value["v"]) == MAX_VALUES
    assert len(value["ev"]) <= 10


def test_temporal_needs_every_rule_in_any_order_and_supports_and_or(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: all\nname: all_three\ncorrelation: {type: temporal, rules: [rule_a, rule_b, rule_c], "
        "group-by: [actor.id], timespan: 5m}\n---\n"
        "title: expr\nname: a_and_b_or_c\ncorrelation: {type: temporal, rules: [rule_a, rule_b, rule_c], "
        "group-by: [actor.id], timespan: 5m, condition: '(rule_a and rule_b) or rule_c'}\n",
    )
    found = run(
        engine, [ev("c", 0, "x"), ev("b", 10, "y"), ev("a", 20, "y"), ev("b", 30, "x"), ev("a", 40, "x")]
    )
    assert [(f.rule_id, f.group["actor.id"], at(f)) for f in found] == [
        ("a_and_b_or_c", "x", 0),
        ("a_and_b_or_c", "y", 20),
        ("all_three", "x", 40),
        ("a_and_b_or_c", "x", 40),  # after its first alert, x needed a and b again
    ]


def test_temporal_ordered_needs_the_order(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: ab\nname: a_then_b\ncorrelation: {type: temporal_ordered, rules: [rule_a, rule_b], "
        "group-by: [actor.id], timespan: 1m}\n",
    )
    assert run(engine, [ev("b", 0), ev("a", 10)]) == []
    found = run(engine, [ev("a", 0, "z"), ev("b", 30, "z"), ev("b", 31, "z")])
    assert [(f.count, at(f)) for f in found] == [(2, 30)]
    assert run(engine, [ev("a", 0, "w"), ev("b", 70, "w")]) == []  # too far apart


def test_aliases_group_rules_that_name_the_user_differently(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: aliased\nname: aliased\ncorrelation:\n  type: temporal\n  rules: [rule_a, rule_b]\n"
        "  group-by: [user]\n  timespan: 5m\n  aliases:\n    user:\n      rule_a: actor.id\n"
        "      rule_b: resource.name\n",
    )
    found = run(engine, [ev("a", 0, "carol"), ev("b", 5, "admin", resource={"name": "carol"})])
    assert [f.group for f in found] == [{"user": "carol"}]


def test_chained_correlation_uses_another_correlation_which_stays_quiet(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: burst\nname: burst\ncorrelation: {type: event_count, rules: [rule_a], group-by: [actor.id], "
        "timespan: 1m, condition: {gte: 3}}\n---\n"
        "title: burst then b\nname: burst_then_b\n"
        "correlation: {type: temporal_ordered, rules: [burst, rule_b], "
        "group-by: [actor.id], timespan: 5m}\n",
    )
    found = run(engine, [ev("a", s, number=s) for s in (0, 1, 2)] + [ev("b", 60)])
    assert [(f.rule_id, f.group, at(f)) for f in found] == [("burst_then_b", {"actor.id": "alice"}, 60)]


def test_sequence_until_cancels_and_absence_fires_once_time_has_passed(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: seq\nname: seq\ncorrelation:\n  type: sequence\n  group-by: [actor.id]\n  timespan: 10m\n"
        "  steps:\n    - {rule: rule_a, count: 2}\n    - {rule: rule_b}\n  until: [rule_c]\n---\n"
        "title: absent\nname: a_without_b\ncorrelation:\n  type: sequence\n  group-by: [actor.id]\n"
        "  timespan: 10m\n  steps:\n    - {rule: rule_a}\n    - {rule: rule_b, absent: true}\n",
    )
    state: dict[str, Any] = {}
    cancelled = run(engine, [ev("a", 0, "p"), ev("a", 1, "p", 1), ev("c", 2, "p"), ev("b", 3, "p")], state)
    assert [f.rule_id for f in cancelled] == []
    done = run(engine, [ev("a", 0, "q"), ev("a", 1, "q", 1), ev("b", 100, "q"), ev("a", 50, "r")], state)
    assert [(f.rule_id, at(f)) for f in done] == [("seq", 100)]
    assert engine.advance(state, START + 649) == []
    absent = engine.advance(state, START + 700)  # r never saw b after its a (p and q did)
    assert [(f.rule_id, f.group, at(f)) for f in absent] == [("a_without_b", {"actor.id": "r"}, 650)]


def test_absence_is_confirmed_after_a_restart(tmp_path: Path) -> None:
    rules = (
        "title: absent\nname: a_without_b\ncorrelation:\n  type: sequence\n  group-by: [actor.id]\n"
        "  timespan: 10m\n  steps:\n    - {rule: rule_a}\n    - {rule: rule_b, absent: true}\n"
    )
    state: dict[str, Any] = {}
    run(engine_for(tmp_path, rules), [ev("a", 0)], state)
    restored = json.loads(json.dumps(state))
    restarted = engine_for(tmp_path, rules)  # a new process: no deadlines in memory
    found = run(restarted, [ev("z", 601, "someone-else")], restored)
    assert [f.rule_id for f in found] == ["a_without_b"]


def test_new_terms_learns_then_alerts_and_keeps_a_bounded_history(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: new ip\nname: new_ip\ncorrelation: {type: new_terms, rules: [rule_a], group-by: [actor.id], "
        "fields: [source.ip], timespan: 30d, max-terms: 3}\n",
    )
    state: dict[str, Any] = {}
    ips = ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.1"]
    found = run(engine, [ev("a", i, number=i, source={"ip": ip}) for i, ip in enumerate(ips)], state)
    assert [f.detail for f in found] == [
        "first source.ip = 192.0.2.2 in 1 known",
        "first source.ip = 192.0.2.3 in 2 known",
        "first source.ip = 192.0.2.4 in 3 known",
        "first source.ip = 192.0.2.1 in 3 known",  # forgotten: only 3 terms are kept
    ]
    (value,) = [v for k, v in state.items() if k.startswith("new_ip|")]
    assert len(value["terms"]) == 3


def test_suppression_exceptions_overrides_templates_and_labels(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: burst\nname: burst\nlevel: low\n"
        "tags: [attack.credential-access, attack.t1110.001, team.iam]\n"
        "correlation: {type: event_count, rules: [rule_a], group-by: [actor.id], timespan: 1m, "
        "condition: {gte: 2}}\n"
        "x-auditwatch:\n  severity: critical\n  suppress: {for: 1h}\n"
        "  output: {title: 'Burst by {actor.id}', summary: '{count} events, first at {first_seen}'}\n"
        "  labels: {team: iam}\n"
        "  exceptions:\n    - {name: scanners, fields: [source.ip], values: [[192.0.2.99]]}\n",
    )
    (tmp_path / "rules" / "local.yml").write_text(
        "override: burst\nexceptions:\n  - name: scanners\n    values: [[192.0.2.98]]\n"
    )
    engine = RuleEngine(load_ruleset([tmp_path / "rules"]))
    events = [ev("a", s, number=s) for s in range(6)]  # 3 pairs; the last two are suppressed
    events += [ev("a", 7200 + s, number=s) for s in range(2)]  # the hour is over
    events += [ev("a", 10 + s, "bob", s, source={"ip": "192.0.2.98"}) for s in range(4)]  # excepted
    found = run(engine, events)
    assert [(f.group["actor.id"], at(f)) for f in found] == [("alice", 1), ("alice", 7201)]
    first = found[0]
    assert first.rule_title == "Burst by alice"
    assert first.summary == "2 events, first at 2026-01-01T00:00:00+00:00"
    assert first.severity.label == "critical"
    assert first.labels == {
        "mitre_techniques": "T1110.001",
        "mitre_tactics": "credential-access",
        "team": "iam",
    }


def test_late_events_are_reported_and_not_counted(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "title: late\nname: late\ncorrelation: {type: event_count, rules: [rule_a], timespan: 1m, "
        "condition: {gte: 3}}\nx-auditwatch: {allowed_lateness: 10s}\n",
    )
    state: dict[str, Any] = {}
    run(engine, [ev("a", 100), ev("a", 101)], state)
    result = engine.evaluate(ev("a", 50), state)
    assert result.late_for == ["late"] and result.findings == []
    assert [f.count for f in run(engine, [ev("a", 95)], state)] == [3]  # within the lateness


def test_state_is_json_between_every_event(tmp_path: Path) -> None:
    correlations = (
        "title: vc\nname: vc\ncorrelation: {type: value_count, rules: [rule_a], timespan: 1m, "
        "condition: {gte: 2, field: actor.id}}\n---\n"
        "title: seq\nname: seq\n"
        "correlation: {type: sequence, timespan: 1m, steps: [{rule: rule_a}, {rule: rule_b}]}\n"
        "---\ntitle: nt\nname: nt\n"
        "correlation: {type: new_terms, rules: [rule_b], fields: [actor.id], timespan: 1d}\n"
    )
    events = [ev("a", 0, "u1"), ev("a", 1, "u2"), ev("b", 2, "u3"), ev("b", 3, "u4"), ev("a", 4, "u5")]
    direct = run(engine_for(tmp_path, correlations), events)
    engine, state, through_json = engine_for(tmp_path, correlations), {}, []
    for event in events:
        through_json += engine.evaluate(event, state).findings
        state = json.loads(json.dumps(state))
    assert [f.model_dump() for f in through_json] == [f.model_dump() for f in direct] != []


def test_a_changed_correlation_starts_afresh_and_an_unchanged_one_keeps_its_window(tmp_path: Path) -> None:
    def rules(span: str) -> str:
        return (
            "title: a\nname: count_a\ncorrelation: {type: event_count, rules: [rule_a], timespan: 1m, "
            "condition: {gte: 3}}\n---\n"
            f"title: b\nname: count_b\ncorrelation: {{type: event_count, rules: [rule_b], timespan: {span}, "
            "condition: {gte: 3}}\n"
        )

    state: dict[str, Any] = {}
    run(
        engine_for(tmp_path, rules("1m")),
        [ev("a", 0), ev("a", 1, number=1), ev("b", 0), ev("b", 1, number=1)],
        state,
    )
    reloaded = engine_for(tmp_path, rules("2m"))  # count_b changed, count_a did not
    found = run(reloaded, [ev("a", 2, number=2), ev("b", 2, number=2)], state)
    assert [f.rule_id for f in found] == ["count_a"]


_ACTIONS = st.sampled_from(["a", "b", "c", "z"])
_STEPS = st.lists(
    st.tuples(_ACTIONS, st.sampled_from(["u1", "u2", "u3"]), st.integers(min_value=0, max_value=30)),
    max_size=40,
)

EVERY_KIND = """\
title: ec
name: ec
correlation: {type: event_count, rules: [rule_a], group-by: [actor.id], timespan: 1m, condition: {gte: 3}}
---
title: eq
name: eq
correlation: {type: event_count, rules: [rule_b], timespan: 1m, condition: {eq: 2}}
---
title: vc
name: vc
correlation: {type: value_count, rules: [rule_a, rule_b], timespan: 2m, condition: {gte: 2, field: actor.id}}
---
title: t
name: t
correlation: {type: temporal, rules: [rule_a, rule_b], group-by: [actor.id], timespan: 1m}
---
title: o
name: o
correlation: {type: temporal_ordered, rules: [rule_a, rule_c], timespan: 1m}
---
title: s
name: s
correlation:
  type: sequence
  group-by: [actor.id]
  timespan: 1m
  steps: [{rule: rule_a, count: 2}, {rule: rule_c, absent: true}]
  until: [rule_b]
---
title: n
name: n
correlation: {type: new_terms, rules: [rule_c], fields: [actor.id], timespan: 5m, max-terms: 2}
"""


@settings(max_examples=60)
@given(steps=_STEPS)
def test_any_stream_keeps_state_json_and_gives_the_same_alerts_through_a_changelog(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str, int]]
) -> None:
    engine = engine_for(tmp_path_factory.mktemp("rules"), EVERY_KIND)
    replayed = RuleEngine(engine.ruleset)
    second, events = 0, []
    for number, (action, actor, gap) in enumerate(steps):
        second += gap
        events.append(ev(action, second, actor, number))
    state: dict[str, Any] = {}
    through_json: dict[str, Any] = {}
    direct, restored = [], []
    for event in events:
        direct += engine.evaluate(event, state).findings
        restored += replayed.evaluate(event, through_json).findings
        through_json = json.loads(json.dumps(through_json))
        assert len(json.dumps(state)) < 100_000
    assert [f.model_dump() for f in restored] == [f.model_dump() for f in direct]
