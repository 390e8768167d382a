"""Rule engine throughput against the number of rules: ``python -m bench.bench_rules``.

    python -m bench.bench_rules [--events 20000] [--runs 5]

Generated rule sets of 10, 100 and 1,000 rules, shaped like the built-in
library (per-product detection rules on an action or an event name, some with
wildcards, keywords or ``not`` that the index cannot narrow, and one
correlation in ten), run over the same stream of canonical events (many
actors, five source systems, a quarter of the events matched by some rule).
The baseline is the same kind of events through an engine with no rules; in
every row a quarter of the events carry an action some rule names, so the
work done for matches is the same whatever the number of rules. Each figure
is the median of ``--runs`` runs; the last column runs the same rules without
the rule index (every rule whose logsource admits the event is tested), on a
tenth of the events, to show what the index saves.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from detectors.engine import RuleEngine
from detectors.events import AuditEvent
from detectors.rules import RuleSet, load_ruleset
from detectors.rules.logsource import logsource_matches

PRODUCTS = [
    ("aws", "cloudtrail", "aws.cloudtrail"),
    ("okta", "okta", "okta"),
    ("kubernetes", "audit", "k8s.audit"),
    ("github", "audit", "github.audit"),
    ("acme", None, "acme.app"),
]
START = 1_767_225_600


def rule_text(index: int, rng: random.Random) -> str:
    product, service, _ = PRODUCTS[index % len(PRODUCTS)]
    logsource = f"{{product: {product}" + (f", service: {service}" if service else "") + "}"
    kind = rng.random()
    if kind < 0.05:
        detection = f"{{keywords: ['needle-{index}'], condition: keywords}}"
    elif kind < 0.10:
        detection = f"{{sel: {{action|contains: 'op{index}x'}}, condition: sel}}"
    elif kind < 0.15:
        detection = (
            f"{{sel: {{action|startswith: 'op{index}_'}}, filter: {{outcome: failure}}, "
            "condition: sel and not filter}"
        )
    else:
        actions = ", ".join(f"op{index}_{k}" for k in range(3))
        detection = f"{{sel: {{action: [{actions}], outcome: success}}, condition: sel}}"
    text = (
        f"title: rule {index}\nname: r{index}\nlogsource: {logsource}\ndetection: {detection}\nlevel: low\n"
    )
    if index % 10 == 9:
        text += (
            f"---\ntitle: burst {index}\nname: c{index}\n"
            f"correlation: {{type: event_count, rules: [r{index}], "
            "group-by: [actor.id], timespan: 5m, condition: {gte: 5}}\nlevel: medium\n"
        )
    return text


def ruleset_of(count: int, folder: Path) -> RuleSet:
    if count == 0:
        return RuleSet()
    rng = random.Random(count)
    path = folder / f"rules_{count}.yml"
    path.write_text("---\n".join(rule_text(i, rng) for i in range(count)))
    return load_ruleset([path])


def make_events(count: int, rules: int = 1000, seed: int = 11) -> list[AuditEvent]:
    """Events of which a quarter carry an action that one of ``rules`` generated rules names."""
    rng = random.Random(seed)
    rules = max(rules, len(PRODUCTS))
    events = []
    for i in range(count):
        product = rng.randrange(len(PRODUCTS))
        system = PRODUCTS[product][2]
        if rng.random() < 0.25:  # an action some rule names
            index = rng.randrange(rules // len(PRODUCTS)) * len(PRODUCTS) + product
            action = f"op{index}_{rng.randrange(3)}"
        else:
            action = rng.choice(["GetObject", "ListBuckets", "user.session.start", "get", "repo.clone"])
        events.append(
            AuditEvent.model_validate(
                {
                    "event_id": f"b{i}",
                    "time": START + i / 20,
                    "actor": {"id": f"user{rng.randrange(500)}"},
                    "action": action,
                    "category": rng.choice(["authentication", "api_activity", "entity_management"]),
                    "outcome": "success" if rng.random() < 0.8 else "failure",
                    "source": {"ip": f"198.51.100.{rng.randrange(1, 250)}"},
                    "origin": {"system": system},
                    "raw": {"message": f"request {i} from client", "eventName": action},
                }
            )
        )
    return events


def rate(engine_of: Any, events: list[AuditEvent]) -> float:
    engine = engine_of()
    state: dict[str, Any] = {}
    started = time.perf_counter()
    for event in events:
        engine.evaluate(event, state)
    return len(events) / (time.perf_counter() - started)


def without_index(ruleset: RuleSet) -> RuleEngine:
    engine = RuleEngine(ruleset)
    detections = ruleset.detections
    engine.index.candidates = lambda view: [  # type: ignore[method-assign]
        d for d in detections if logsource_matches(d.logsource, view.event)
    ]
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sets = {count: ruleset_of(count, Path(folder)) for count in (0, 10, 100, 1000)}
    for count, ruleset in sets.items():
        # The same share of events matches a rule whatever the number of rules, so that
        # the work done for matches (findings, windows) is the same in every row.
        events = make_events(args.events, rules=count or 1000)
        sample = events[: max(1, args.events // 10)]
        medians = statistics.median(rate(lambda r=ruleset: RuleEngine(r), events) for _ in range(args.runs))
        slow = statistics.median(rate(lambda r=ruleset: without_index(r), sample) for _ in range(args.runs))
        anchored = RuleEngine(ruleset).index.anchored
        rows.append((count, len(ruleset), anchored, medians, slow))
    baseline = rows[0][3]
    print(f"{args.events} events, median of {args.runs} runs; 'without index' on {args.events // 10} events")
    header = ("rules", "documents", "indexed", "events/s", "ratio to baseline", "without index", "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for count, documents, anchored, fast, slow in rows:
        label = "0 (baseline)" if count == 0 else str(count)
        print(
            f"| {label} | {documents} | {anchored} | {fast:,.0f} | {fast / baseline:.2f} | "
            f"{slow:,.0f} | {slow / baseline:.2f} |"
        )


if __name__ == "__main__":
    main()
