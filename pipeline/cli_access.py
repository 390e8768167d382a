"""``auditwatch access``: the least-privilege review and the policy check for CI.

``access review`` reports, per principal, what was used, denied and granted
but unused in a window, and proposes a least-privilege policy. ``access check``
exits 1 when a policy grants more than its baseline, 0 when it does not, and 2
when either file is wrong.
"""

from __future__ import annotations

import io
import json
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from pipeline.access import AccessReview, excess_grants, load_policy, review_sources
from pipeline.access.window import parse_now
from pipeline.errors import PipelineError

__all__ = ["access_app", "policy_yaml", "render_table"]

access_app = typer.Typer(help="Least-privilege access review of observed activity.", no_args_is_help=True)

_err = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def policy_yaml(data: dict[str, Any], comment: str | None = None) -> str:
    """A policy's data as the YAML ``load_policy`` reads, under an optional ``#`` comment."""
    yaml = YAML()
    yaml.default_flow_style = False
    out = io.StringIO()
    if comment:
        out.writelines(f"# {line}\n" for line in textwrap.wrap(comment, 100))
    yaml.dump(data, out)
    return out.getvalue()


def _proposal(review: AccessReview) -> str:
    return policy_yaml(
        review.proposed_policy,
        f"Least-privilege policy proposed by auditwatch access review. {review.proposal_rule}",
    )


def _counts(items: list[tuple[str, int]]) -> str:
    return "\n".join(f"{name} x{count}" for name, count in items) or "-"


def render_table(review: AccessReview, console: Console) -> None:
    """The review for a person: principals, roles, the unassigned, and the proposed policy."""
    window, source = review.window, review.input
    console.print(
        f"Access review, last {window.since}: "
        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC; "
        f"{source.in_window} of {source.events} events in the window, {source.rejected} records rejected"
        + (f"; policy {review.policy}" if review.policy else "; no policy given"),
        highlight=False,
    )
    for example in source.rejected_examples:
        console.print(f"  rejected: {example}", highlight=False)
    with_policy = review.policy is not None
    table = Table(title="Principals", show_lines=True)
    columns = ["principal", "roles", "used", "denied attempts", "granted, unused", "used, not granted"]
    for column in columns if with_policy else [columns[0], *columns[2:4]]:
        table.add_column(column, overflow="fold")
    for p in review.principals:
        cells = [
            p.principal + ("" if p.last_seen else "\n(not seen)"),
            ", ".join(p.roles) or "-",
            _counts([(u.action, u.count) for u in p.used]),
            _counts([(d.action, d.count) for d in p.denied]),
            "\n".join(u.permission for u in p.unused) or "-",
            "\n".join(p.ungranted) or "-",
        ]
        table.add_row(*(cells if with_policy else [cells[0], *cells[2:4]]))
    console.print(table)
    if review.roles:
        roles = Table(title="Roles", show_lines=True)
        for column in ("role", "members", "allows", "unused", "proposed"):
            roles.add_column(column, overflow="fold")
        for r in review.roles:
            roles.add_row(
                r.role,
                "\n".join(r.members) or "-",
                "\n".join(r.allow) or "-",
                "\n".join(r.unused) or "-",
                "\n".join(r.proposed) or "-",
            )
        console.print(roles)
    if review.unassigned:
        console.print(f"Seen with no role: {', '.join(review.unassigned)}", highlight=False)
    console.print()
    console.print(_proposal(review), highlight=False, markup=False)


@access_app.command("review")
def review_command(
    sources: Annotated[
        list[str], typer.Argument(help="Event files (any input format, gzip ok) or archive dirs.")
    ],
    since: Annotated[str, typer.Option(help="Window length back from --now: 90d, 12h or 30m.")] = "90d",
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy YAML (roles -> allow, members -> roles).")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    now: Annotated[
        str | None, typer.Option(help="End of the window, ISO 8601 with a zone (default: the clock).")
    ] = None,
    propose: Annotated[
        Path | None, typer.Option("--propose", help="Also write the proposed policy YAML to this file.")
    ] = None,
) -> None:
    """Who used what in the window, what was denied, and what is granted but unused."""
    try:
        review = review_sources(sources, since, parse_now(now), policy)
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    if propose is not None:
        try:
            propose.write_text(_proposal(review), encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{propose}: cannot write: {exc}") from None
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(review.to_json(), indent=2))
    else:
        render_table(review, Console())


@access_app.command("check")
def check_command(
    policy: Annotated[Path, typer.Option("--policy", help="The policy to check.")],
    baseline: Annotated[Path, typer.Option("--baseline", help="The most it may grant.")],
) -> None:
    """Exit 1, listing the excess, when the policy grants more than the baseline; exit 0 otherwise."""
    try:
        found = excess_grants(load_policy(policy), load_policy(baseline))
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    if not found:
        typer.echo(f"{policy}: grants nothing beyond {baseline}")
        return
    typer.echo(f"{policy}: grants {len(found)} permission(s) beyond {baseline}:")
    for excess in found:
        typer.echo(f"  {excess}")
    raise typer.Exit(1)
