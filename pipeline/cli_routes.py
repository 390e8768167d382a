"""``auditwatch routes``, ``silence`` and ``alerts``: the on-call engineer's commands.

``routes`` tests and shows the alert routing tree, as ``amtool config routes`` does.

::

    auditwatch routes test --config config/router.yaml severity=critical alertname=failed_login_burst
    auditwatch routes test --config config/router.yaml --verify.receivers=secops-pager,secops-slack \\
        severity=critical
    auditwatch routes test --config config/router.yaml --tree severity=critical
    auditwatch routes test --config config/router.yaml --cases config/router_cases.yaml
    auditwatch routes show --config config/router.yaml

``test`` prints the receivers an alert with the given labels goes to,
comma-joined in tree order, like ``amtool config routes test``. Exit codes:
0 when the receivers (or every case) are as expected, 1 when
``--verify.receivers`` differs or a case fails, 2 when the config, the cases
file or a label cannot be read.

``silence add|list|expire`` manage silences in Kafka, like ``amtool silence``::

    auditwatch silence add 'entity="actor.id=pentester"' --duration 4h --comment "scheduled pentest"
    auditwatch silence list [--expired]
    auditwatch silence expire 3d3f0c8e-...

``alerts redeliver`` sends the notifications parked in the dead-letter topic
again, once their receiver is back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from alerts.errors import AlertError
from alerts.router.cases import run_cases
from alerts.router.durations import parse_duration
from alerts.router.matchers import MatchType, parse_matchers
from alerts.router.route import Route
from alerts.router.silence import new_silence
from alerts.router.spec import RouterSpec
from pipeline.config import AuditwatchConfig, load_config
from pipeline.errors import PipelineError
from pipeline.routerconfig import DEFAULT_ROUTER, load_cases, load_router
from pipeline.silences import read_silences, write_silences

__all__ = ["alerts_app", "matching_tree", "parse_labels", "routes_app", "silence_app"]

routes_app = typer.Typer(
    help="Test and show the alert routing tree (config/router.yaml).", no_args_is_help=True
)

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)

RouterOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Router config (default: $AUDITWATCH_ROUTER_CONFIG or config/router.yaml).",
    ),
]


def router_path(path: Path | None) -> Path:
    if path is not None:
        return path
    env = os.environ.get("AUDITWATCH_ROUTER_CONFIG")
    return Path(env) if env else DEFAULT_ROUTER


def fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(code)


def load_spec(path: Path | None) -> RouterSpec:
    try:
        return load_router(router_path(path))
    except PipelineError as exc:
        raise fail(str(exc)) from None


def parse_labels(args: list[str]) -> dict[str, str]:
    """``name=value`` arguments (or ``{a="1", b="2"}``) as a label set; ``ValueError`` if not."""
    labels: dict[str, str] = {}
    for arg in args:
        for matcher in parse_matchers(arg):
            if matcher.type is not MatchType.EQUAL:
                raise ValueError(f"{arg!r}: give labels as name=value, not a {matcher.type.value} matcher")
            labels[matcher.name] = matcher.value
    return labels


def matching_tree(root: Route, labels: Mapping[str, str]) -> list[str]:
    """The routes an alert visits, as an indented tree; ``(final)`` marks a result."""
    finals = {id(route) for route in root.match(labels)}
    lines = [root.describe() + ("  (final)" if id(root) in finals else "")]

    def visit(route: Route, prefix: str) -> None:
        visited: list[Route] = []
        for child in route.routes:
            if child.match(labels):
                visited.append(child)
                if not child.continue_:
                    break
        for position, child in enumerate(visited):
            last = position == len(visited) - 1
            mark = "  (final)" if id(child) in finals else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child.describe()}{mark}")
            visit(child, prefix + ("    " if last else "│   "))

    visit(root, "")
    return lines


def full_tree(root: Route) -> list[str]:
    lines = [root.describe()]

    def visit(route: Route, prefix: str) -> None:
        for position, child in enumerate(route.routes):
            last = position == len(route.routes) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child.describe()}")
            visit(child, prefix + ("    " if last else "│   "))

    visit(root, "")
    return lines


@routes_app.command("test")
def routes_test(
    labels: Annotated[
        list[str] | None, typer.Argument(help="The alert's labels: name=value ...", show_default=False)
    ] = None,
    config: RouterOption = None,
    verify_receivers: Annotated[
        str | None,
        typer.Option(
            "--verify.receivers",
            help="Expected receivers, comma-separated in tree order; exit 1 if they differ.",
        ),
    ] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Show the routes the alert visits.")] = False,
    cases: Annotated[
        Path | None,
        typer.Option("--cases", help="Run a file of routing cases instead (see the README)."),
    ] = None,
) -> None:
    """Print the receivers an alert with these labels is routed to (like amtool)."""
    spec = load_spec(config)
    if cases is not None:
        if labels:
            raise fail("give either labels or --cases, not both")
        _run_cases(spec, cases)
        return
    try:
        label_set = parse_labels(labels or [])
    except ValueError as exc:
        raise fail(str(exc)) from None
    if tree:
        _out.print("Matching routes:", markup=False)
        for line in matching_tree(spec.root, label_set):
            _out.print(line, markup=False)
        _out.print("", markup=False)
    receivers = ",".join(route.opts.receiver for route in spec.match(label_set))
    _out.print(receivers, markup=False)
    if verify_receivers is not None and verify_receivers != receivers:
        _out.print("WARNING: Expected receivers did not match resolved receivers.", markup=False)
        raise typer.Exit(1)


def _run_cases(spec: RouterSpec, path: Path) -> None:
    try:
        case_file = load_cases(path)
    except PipelineError as exc:
        raise fail(str(exc)) from None
    results = run_cases(spec, case_file)
    for result in results:
        if result.ok:
            _out.print(f"ok    {result.name}: {','.join(result.receivers) or '(none)'}", markup=False)
        else:
            _out.print(f"FAIL  {result.name}: {'; '.join(result.failures)}", markup=False)
    failed = sum(1 for result in results if not result.ok)
    _out.print(f"{len(results)} cases, {failed} failed", markup=False)
    if failed:
        raise typer.Exit(1)


@routes_app.command("show")
def routes_show(config: RouterOption = None) -> None:
    """Print the whole routing tree with each route's effective options."""
    spec = load_spec(config)
    for line in full_tree(spec.root):
        _out.print(line, markup=False)


# -- silences ---------------------------------------------------------------------------------------

silence_app = typer.Typer(
    help="Add, list and expire silences (stored in Kafka; every worker sees them).", no_args_is_help=True
)
alerts_app = typer.Typer(help="Work with parked notifications.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="auditwatch config (default: $AUDITWATCH_CONFIG or config/auditwatch.yaml).",
    ),
]


def _settings(path: Path | None) -> AuditwatchConfig:
    try:
        return load_config(path)
    except PipelineError as exc:
        raise fail(str(exc)) from None


def _when(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option}: {text!r} is not a time; write it as 2024-05-01T10:00:00Z") from None
    if moment.tzinfo is None:
        raise fail(f"{option}: {text!r} has no time zone; add Z for UTC or an offset such as +02:00")
    return moment


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "silence"
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"


@silence_app.command("add")
def silence_add(
    matchers: Annotated[
        list[str], typer.Argument(help='Matchers: entity="actor.id=alice" severity=~"high|low"')
    ],
    comment: Annotated[str, typer.Option("--comment", help="Why (required).")],
    author: Annotated[
        str | None, typer.Option("--author", help="Who (default: $USER).", show_default=False)
    ] = None,
    duration: Annotated[
        str, typer.Option("--duration", help="How long, from the start (30m, 2h, 1d).")
    ] = "1h",
    start: Annotated[str | None, typer.Option("--start", help="When it starts (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="When it ends (instead of --duration).")] = None,
    config: ConfigOption = None,
) -> None:
    """Silence the alerts all the matchers match; prints the new silence's id."""
    settings = _settings(config)
    now = datetime.now(UTC)
    starts = _when(start, "--start") if start else now
    try:
        ends = _when(end, "--end") if end else starts + timedelta(seconds=parse_duration(duration))
        silence = new_silence(
            matchers, starts, ends, author or os.environ.get("USER") or "unknown", comment, now=now
        )
    except ValidationError as exc:
        raise fail("; ".join(_problem(error) for error in exc.errors())) from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        asyncio.run(write_silences(settings, [silence]))
    except PipelineError as exc:
        raise fail(str(exc)) from None
    _out.print(silence.id, markup=False)


@silence_app.command("list")
def silence_list(
    expired: Annotated[bool, typer.Option("--expired", help="Show expired silences instead.")] = False,
    config: ConfigOption = None,
) -> None:
    """List active and pending silences (or expired ones)."""
    settings = _settings(config)
    try:
        store = asyncio.run(read_silences(settings))
    except PipelineError as exc:
        raise fail(str(exc)) from None
    now = datetime.now(UTC)
    wanted = ("expired",) if expired else ("active", "pending")
    rows = store.in_state(now, *wanted)
    _out.print("ID\tSTATE\tMATCHERS\tSTARTS\tENDS\tCREATED BY\tCOMMENT", markup=False)
    for s in rows:
        _out.print(
            f"{s.id}\t{s.state(now)}\t{' '.join(s.matchers)}\t{s.starts_at:%Y-%m-%dT%H:%M:%SZ}\t"
            f"{s.ends_at:%Y-%m-%dT%H:%M:%SZ}\t{s.created_by}\t{s.comment}",
            markup=False,
        )


@silence_app.command("expire")
def silence_expire(
    ids: Annotated[list[str], typer.Argument(help="Ids of the silences to end now.")],
    config: ConfigOption = None,
) -> None:
    """End silences now; they stay listed under --expired."""
    settings = _settings(config)
    try:
        store = asyncio.run(read_silences(settings))
        now = datetime.now(UTC)
        missing = [silence_id for silence_id in ids if store.get(silence_id) is None]
        if missing:
            raise fail(f"no silence with id {', '.join(missing)}")
        expired = [silence.expired(now) for i in ids if (silence := store.get(i)) is not None]
        asyncio.run(write_silences(settings, expired))
    except PipelineError as exc:
        raise fail(str(exc)) from None
    for silence_id in ids:
        _out.print(f"expired {silence_id}", markup=False)


@alerts_app.command("redeliver")
def alerts_redeliver(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be sent; send nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Send the notifications parked in the alerts dead-letter topic again."""
    from pipeline.redeliver import redeliver

    settings = _settings(config)
    try:
        stats = asyncio.run(redeliver(settings, dry_run=dry_run, console=_out))
    except (PipelineError, AlertError) as exc:
        raise fail(str(exc)) from None
    for line in stats.lines:
        _out.print(line, markup=False)
    _err.print(
        f"redelivered {stats.delivered}, parked again {stats.parked_again}, "
        f"left parked {stats.unknown_target}, other dead letters {stats.not_notifications}",
        markup=False,
    )
    if stats.parked_again or stats.unknown_target:
        raise typer.Exit(1)
