"""``auditwatch rules``: lint, list, test and explain detection rules, with no Kafka.

```sh
auditwatch rules lint config/rules                 # every problem, with file and line
auditwatch rules list                              # kind, level, tags and status of each rule
auditwatch rules test config/rules --junit rules-junit.xml
auditwatch rules explain failed_login_burst event.json
```

``rules test`` and ``rules explain`` turn source records (a CloudTrail or Okta
record in a test's ``record:``, or in the event file) into events with the
same adapters as ingest, in UTC, so a rule is tested on what the worker sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from detectors.engine import RuleEngine
from detectors.errors import RuleLoadError
from detectors.events import AuditEvent
from detectors.models import DetectorConfigError
from detectors.rules import RuleSet, load_ruleset
from detectors.rules.expectations import Expectations, check_expectations, load_expectations
from detectors.rules.explain import explain
from detectors.rules.ruleset import CompiledDetection, rule_files
from detectors.rules.testing import junit_xml, run_rule_tests
from pipeline.config import load_config
from pipeline.detector_names import declared_detectors
from pipeline.errors import PipelineError
from pipeline.reload import adapt_record

__all__ = ["adapt_record", "check_replay", "load_replay_expectations", "rules_app"]

rules_app = typer.Typer(help="Work with detection rules.", no_args_is_help=True)

_err = Console(stderr=True, soft_wrap=True)
_out = Console(soft_wrap=True)

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Rule files or directories (default: the configured rules)."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $AUDITWATCH_CONFIG or config/auditwatch.yaml)."
    ),
]
DetectorsOption = Annotated[
    Path | None,
    typer.Option(
        "--detectors",
        help="Detector files or directory whose names correlations may use "
        "(default: the configured detectors.dir, else the detectors directory beside the rules).",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _targets(paths: list[Path] | None, config: Path | None) -> list[Path]:
    if paths:
        return paths
    try:
        return [load_config(config).rules.dir]
    except PipelineError as exc:
        raise _fail(str(exc)) from None


def _detector_names(detectors: Path | None, config: Path | None) -> tuple[str, ...] | None:
    """The detector names correlations may use: from ``--detectors``, else the config's
    ``detectors.dir``, else (no config) None: those declared beside the rules."""
    if detectors is None:
        try:
            detectors = load_config(config).detectors.dir
        except PipelineError:
            return None
    try:
        return declared_detectors(detectors)
    except DetectorConfigError as exc:
        raise _fail(str(exc), code=1) from None


def _load(targets: list[Path], config: Path | None = None, detectors: Path | None = None) -> RuleSet:
    try:
        return load_ruleset(targets, detectors=_detector_names(detectors, config))
    except RuleLoadError as exc:
        for problem in exc.problems:
            _err.print(str(problem), highlight=False, markup=False)
        raise _fail(f"{len(exc.problems)} problem(s) found", code=1) from None


@rules_app.command("lint")
def rules_lint(
    paths: PathsArgument = None, config: ConfigOption = None, detectors: DetectorsOption = None
) -> None:
    """Check rules; print every problem with its file and line."""
    targets = _targets(paths, config)
    ruleset = _load(targets, config, detectors)
    files = len(rule_files(targets))
    tests = sum(len(r.meta.options.tests) for r in ruleset.rules)
    _err.print(
        f"ok: {len(ruleset.detections)} detection rules and {len(ruleset.correlations)} correlations "
        f"in {files} file{'s' if files != 1 else ''}, with {tests} tests",
        highlight=False,
    )


@rules_app.command("list")
def rules_list(
    paths: PathsArgument = None, config: ConfigOption = None, detectors: DetectorsOption = None
) -> None:
    """Show each rule's kind, level, tags, status and whether it alerts on its own."""
    ruleset = _load(_targets(paths, config), config, detectors)
    header = ("RULE", "KIND", "LEVEL", "STATUS", "ALERTS", "TESTS", "TAGS", "FILE")
    rows: list[tuple[str, ...]] = [header]
    for rule in ruleset.rules:
        meta = rule.meta
        kind = "detection" if isinstance(rule, CompiledDetection) else rule.spec.type
        users = [c.key for c in ruleset.consumers(rule.key)]
        alerts = "yes" if rule.emits else f"no, feeds {','.join(users)}" if users else "no"
        rows.append(
            (
                meta.key,
                kind,
                meta.level,
                meta.status or "-",
                alerts,
                str(len(meta.options.tests)),
                ",".join(meta.tags) or "-",
                f"{meta.file}:{meta.line}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        _out.print("  ".join([*cells, row[-1]]), highlight=False, markup=False)


@rules_app.command("test")
def rules_test(
    paths: PathsArgument = None,
    config: ConfigOption = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", "-r", help="Only this rule's tests.")] = None,
    detectors: DetectorsOption = None,
) -> None:
    """Run the tests written in the rule files (single-event and timeline tests)."""
    ruleset = _load(_targets(paths, config), config, detectors)
    outcomes = run_rule_tests(ruleset, adapt_record, only=set(rule) if rule else None)
    for outcome in outcomes:
        where = f"{outcome.file}:{outcome.line}"
        if outcome.passed:
            _out.print(f"PASS {where} {outcome.rule}: {outcome.name}", highlight=False, markup=False)
        else:
            _out.print(
                f"FAIL {where} {outcome.rule}: {outcome.name}: {outcome.message}",
                highlight=False,
                markup=False,
            )
    failed = sum(1 for o in outcomes if not o.passed)
    if junit is not None:
        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            junit.write_bytes(junit_xml(outcomes))
        except OSError as exc:
            raise _fail(f"{junit}: cannot write: {exc}") from None
    rules = len({o.rule for o in outcomes})
    _err.print(
        f"{len(outcomes) - failed} passed, {failed} failed ({len(outcomes)} tests of {rules} rules)",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


@rules_app.command("explain")
def rules_explain(
    rule: Annotated[str, typer.Argument(help="The rule's name or id.")],
    event_file: Annotated[
        Path,
        typer.Argument(
            help="A JSON event or source record; or a JSON list / JSON lines whose last item is explained "
            "after the others have been run through the rules (to fill correlation windows)."
        ),
    ],
    rules: Annotated[Path | None, typer.Option("--rules", help="Rules directory or file.")] = None,
    config: ConfigOption = None,
) -> None:
    """Show why an event matches a rule or not: which selection and field, and the window's state."""
    ruleset = _load(_targets([rules] if rules else None, config), config)
    events = _read_events(event_file)
    engine = RuleEngine(ruleset)
    state: dict[str, Any] = {}
    for earlier in events[:-1]:
        engine.evaluate(earlier, state)
    try:
        lines = explain(engine, rule, events[-1], state)
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    for line in lines:
        _out.print(line, highlight=False, markup=False)
    fired = [f.rule_id for f in engine.evaluate(events[-1], state).findings]
    if fired:
        _out.print(f"this event raises: {', '.join(fired)}", highlight=False, markup=False)


def _read_events(path: Path) -> list[AuditEvent]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: cannot read: {exc}") from None
    try:
        loaded = json.loads(text)
        items = loaded if isinstance(loaded, list) else [loaded]
    except ValueError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise _fail(f"{path}: not JSON or JSON lines: {exc}") from None
    if not items:
        raise _fail(f"{path}: no event in the file")
    events: list[AuditEvent] = []
    for number, item in enumerate(items, start=1):
        try:
            events.append(AuditEvent.model_validate(item))
            continue
        except ValidationError:
            pass
        try:
            events.extend(adapt_record(item))
        except ValueError as exc:
            raise _fail(f"{path}: item {number}: {exc}") from None
    return events


def load_replay_expectations(path: Path) -> Expectations:
    """``replay --expect``: the expectations file, or every problem in it and exit 2."""
    loaded = load_expectations(path)
    if isinstance(loaded, Expectations):
        return loaded
    for problem in loaded:
        _err.print(str(problem), highlight=False, markup=False)
    raise _fail(f"{path}: {len(loaded)} problem(s) in the expectations file")


def check_replay(expectations: Expectations, counts: dict[str, int]) -> None:
    """Exit 1, naming each rule, when the replay's alerts do not meet the expectations."""
    failures = check_expectations(expectations, counts)
    for failure in failures:
        _err.print(f"[bold red]expectation not met:[/] {failure}", highlight=False)
    if failures:
        raise typer.Exit(1)
    _err.print(f"expectations met ({len(expectations.expect)} rules)", highlight=False)
