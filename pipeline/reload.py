"""Hot reload of the rules: watch the rules directory (and take SIGHUP), swap atomically.

A reload loads the whole new rule set, refuses it if any file has a problem,
runs every test written in the rule files, and only then replaces the
engine, in one assignment between two events: each event is evaluated by
exactly one rule set, and none is skipped. If anything fails, the worker
keeps the rules it has and sends an alert about the failed reload (rule
``auditwatch.rules.reload_failed``) through the normal alert path.

What happens to open windows: a correlation whose definition did not change
keeps its state (state keys carry the rule's name, values its fingerprint);
a correlation that changed starts with empty windows, and the reload logs
which ones; the state of a removed rule is dropped when its deadline comes.

The directory is polled every ``POLL_SECONDS`` (a changed, added or removed
``.yml``/``.yaml`` file); a change is acted on once two polls agree, so a file
being written is not read half-way. ``kill -HUP <worker pid>`` reloads at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts.model import Alert, build_alert
from detectors.engine import RuleEngine
from detectors.errors import RuleLoadError
from detectors.events import AuditEvent, Severity
from detectors.findings import Finding
from detectors.rules import RuleSet, load_ruleset
from detectors.rules.ruleset import rule_files
from detectors.rules.testing import run_rule_tests
from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, accept_record

__all__ = ["POLL_SECONDS", "RELOAD_FAILED_RULE", "Prepared", "ReloadFailure", "RuleReloader", "adapt_record"]

POLL_SECONDS = 1.0
RELOAD_FAILED_RULE = "auditwatch.rules.reload_failed"
MAX_LISTED_PROBLEMS = 10

log = logging.getLogger("auditwatch.rules")

_CONTEXT = FormatContext(default_timezone="UTC")


def adapt_record(record: Any) -> list[AuditEvent]:
    """A source record (a JSON value or a log line) as the events ingest would make of it.

    Each record gets fresh adapters: ingest's duplicate suppression (a Kubernetes
    audit ID, a syslog line seen twice) must not hide a test's repeated record.
    """
    text = record if isinstance(record, str) else json.dumps(record)
    outcome = accept_record(text.encode(), default_registry(), _CONTEXT)
    if not isinstance(outcome, Accepted):
        raise ValueError(f"the record is rejected by ingest: {outcome.reason}")
    return outcome.events


Snapshot = tuple[tuple[str, int, int], ...]


def snapshot(directory: Path) -> Snapshot:
    """Name, modification time and size of every rule file: what a change is judged on."""
    found = []
    for path in rule_files([directory]):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


@dataclass(frozen=True)
class Prepared:
    """A new rule set that loaded and passed its tests, ready to be swapped in."""

    ruleset: RuleSet
    snapshot: Snapshot
    tests: int


@dataclass(frozen=True)
class ReloadFailure:
    reason: str
    problems: list[str] = field(default_factory=list)


class RuleReloader:
    """Decides when to reload, builds the new rule set, and swaps it into a holder of ``engine``."""

    def __init__(self, holder: Any, directory: Path) -> None:
        self.holder = holder
        self.directory = directory
        self._current = snapshot(directory)
        self._seen = self._current
        self._requested = False

    def request(self) -> None:
        """Reload at the next chance, changed or not (SIGHUP)."""
        self._requested = True

    def due(self) -> bool:
        """True when the directory changed and has been stable for one poll, or a reload was requested."""
        if self._requested:
            self._requested = False
            return True
        now = snapshot(self.directory)
        stable = now == self._seen
        self._seen = now
        return stable and now != self._current

    def prepare(self) -> Prepared | ReloadFailure:
        """Load and test the new rules (pure and slow: run it off the event loop)."""
        taken = snapshot(self.directory)
        try:
            ruleset = load_ruleset([self.directory], detectors=getattr(self.holder, "detector_names", ()))
        except RuleLoadError as exc:
            self._current = taken  # do not retry the same broken files on every poll
            return ReloadFailure(
                f"{len(exc.problems)} problem(s) in the rules", [str(p) for p in exc.problems]
            )
        outcomes = run_rule_tests(ruleset, adapt_record)
        failed = [o for o in outcomes if not o.passed]
        if failed:
            self._current = taken
            return ReloadFailure(
                f"{len(failed)} rule test(s) failed",
                [f"{o.file}:{o.line}: {o.rule}: {o.name}: {o.message}" for o in failed],
            )
        return Prepared(ruleset, taken, len(outcomes))

    def commit(self, prepared: Prepared) -> list[str]:
        """Swap the new engine in; returns what changed, as log lines."""
        old: RuleEngine = self.holder.engine
        engine = RuleEngine(prepared.ruleset)
        engine.watermark = old.watermark
        self.holder.engine = engine  # one assignment: the next event sees the new rules
        self._current = prepared.snapshot
        return describe_changes(old.ruleset, prepared.ruleset, prepared.tests)

    def failure_alert(self, failure: ReloadFailure, redactor: Any = None) -> Alert:
        now = datetime.now(tz=UTC)
        listed = failure.problems[:MAX_LISTED_PROBLEMS]
        finding = Finding(
            rule_id=RELOAD_FAILED_RULE,
            rule_title="Rule reload failed; the worker keeps its previous rules",
            description=f"{failure.reason}: {'; '.join(listed)}",
            severity=Severity.HIGH,
            group={"rules_dir": str(self.directory)},
            count=max(1, len(failure.problems)),
            window_start=now,
            window_end=now,
            first_seen=now,
            last_seen=now,
            evidence=tuple({"problem": problem} for problem in listed),
            labels={"component": "rules"},
            summary=f"{failure.reason} in {self.directory}; the previous rules stay in force",
        )
        return build_alert(finding, redactor=redactor)


def describe_changes(old: RuleSet, new: RuleSet, tests: int) -> list[str]:
    before = {r.key: r.meta.fingerprint for r in old.rules}
    after = {r.key: r.meta.fingerprint for r in new.rules}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(after) & set(before) if after[k] != before[k])
    kinds = {c.key for c in new.correlations}
    lines = [
        f"rules reloaded: {len(new)} rules ({len(added)} added, {len(removed)} removed, "
        f"{len(changed)} changed), {tests} rule tests passed"
    ]
    if added:
        lines.append(f"rules added: {', '.join(added)}")
    if removed:
        lines.append(f"rules removed: {', '.join(removed)}")
    reset = [k for k in changed if k in kinds]
    if reset:
        lines.append(f"correlations changed, their open windows reset: {', '.join(reset)}")
    kept = sorted(k for k in set(after) & set(before) if k in kinds and k not in changed)
    if kept:
        lines.append(f"correlations unchanged, their windows kept: {len(kept)}")
    return lines


def register_reload(
    app: Any, holder: Any, directory: Path, *, alerts: Any, redactor: Any = None
) -> RuleReloader:
    """Watch ``directory`` from a Faust timer and reload on SIGHUP; returns the reloader."""
    reloader = RuleReloader(holder, directory)
    busy = asyncio.Lock()

    async def listen_for_sighup() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
        log.info("rules: watching %s for changes (or send SIGHUP to reload)", directory)

    async def watch_rules() -> None:
        if busy.locked() or not reloader.due():
            return
        async with busy:
            prepared = await asyncio.to_thread(reloader.prepare)
            if isinstance(prepared, ReloadFailure):
                log.error("rules: reload refused, keeping the previous rules: %s", prepared.reason)
                for problem in prepared.problems:
                    log.error("rules:   %s", problem)
                alert = reloader.failure_alert(prepared, redactor)
                await alerts.send(key=alert.id.encode(), value=alert.to_json_bytes())
                return
            for line in reloader.commit(prepared):
                log.info("rules: %s", line)

    app.task(listen_for_sighup)
    app.timer(POLL_SECONDS)(watch_rules)
    return reloader
