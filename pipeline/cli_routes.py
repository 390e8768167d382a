"""``auditwatch routes``: test and show the alert routing tree, as ``amtool config routes`` does.

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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from alerts.router.cases import run_cases
from alerts.router.matchers import MatchType, parse_matchers
from alerts.router.route import Route
from alerts.router.spec import RouterSpec
from pipeline.errors import PipelineError
from pipeline.routerconfig import DEFAULT_ROUTER, load_cases, load_router

__all__ = ["matching_tree", "parse_labels", "routes_app"]

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
