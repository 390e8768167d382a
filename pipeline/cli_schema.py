"""``auditwatch schema``: the published event contract, and a check for producers' CI.

``auditwatch schema`` prints the versioned JSON Schema of the canonical event.
``auditwatch schema check FILE...`` validates sample events (JSON lines, or one
JSON array per file, ``-`` for stdin) with the same model the worker's ingest
uses, prints ``file:line: reason`` for each bad event, and exits 1 if there is
one. An event of another schema version is upgraded when this version knows
how, and rejected otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from auditwatch_sdk.schema import SCHEMA_VERSION, AuditEvent, json_schema
from pipeline.formats.native import describe_validation_error

__all__ = ["check_events", "schema_app"]

schema_app = typer.Typer(
    help=f"The canonical event's JSON Schema (version {SCHEMA_VERSION}) and a check for sample events.",
    invoke_without_command=True,
    no_args_is_help=False,
)

_err = Console(stderr=True, soft_wrap=True)


@schema_app.callback()
def schema(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file instead.")
    ] = None,
) -> None:
    """Print the canonical audit event's versioned JSON Schema."""
    if ctx.invoked_subcommand is not None:
        return
    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        _err.print(f"wrote schema version {SCHEMA_VERSION} to {output}", highlight=False)


@schema_app.command("check")
def check(
    files: Annotated[list[str], typer.Argument(help="Files of sample events ('-' for stdin).")],
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="Zone for timestamps without one (default: reject them)."),
    ] = None,
) -> None:
    """Validate sample events against the schema; exit 1 if any is invalid."""
    good = bad = 0
    for name in files:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _err.print(f"[bold red]error:[/] {name}: cannot read: {exc}", highlight=False)
            raise typer.Exit(2) from None
        for line, problem in check_events(text, timezone):
            if problem is None:
                good += 1
            else:
                bad += 1
                _err.print(f"{name}:{line}: {problem}", highlight=False, markup=False)
    _err.print(
        f"{good} valid, {bad} invalid event{'s' if bad != 1 else ''} (schema version {SCHEMA_VERSION})",
        highlight=False,
    )
    if bad or not good:
        if not good and not bad:
            _err.print("[bold red]error:[/] no events found", highlight=False)
        raise typer.Exit(1)


def check_events(text: str, timezone: str | None = None) -> list[tuple[int, str | None]]:
    """(line, None) for each valid event and (line, reason) for each invalid one.

    A file that is one JSON array is checked element by element (line 1 for all)."""
    context = {"default_timezone": timezone} if timezone else None
    stripped = text.lstrip()
    items: list[tuple[int, str]] | list[tuple[int, Any]]
    if stripped.startswith("["):
        try:
            items = [(1, item) for item in json.loads(stripped)]
        except json.JSONDecodeError as exc:
            return [(exc.lineno, f"invalid JSON: {exc.msg}")]
    else:
        items = [(n, raw) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]
    results: list[tuple[int, str | None]] = []
    for line, item in items:
        try:
            data = json.loads(item) if isinstance(item, str) else item
        except json.JSONDecodeError as exc:
            results.append((line, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(data, dict):
            results.append((line, f"an event must be a JSON object, not {type(data).__name__}"))
            continue
        try:
            AuditEvent.model_validate(data, context=context)
        except ValidationError as exc:
            results.append((line, describe_validation_error(exc)[1]))
            continue
        results.append((line, None))
    return results
