"""``auditwatch token``: create, list and revoke the HTTP API's tokens.

``token create --role responder --name bob`` prints the secret once, on
stdout and alone (so ``TOKEN=$(auditwatch token create ...)`` works), and
describes it on stderr; the tokens file (``api.tokens_file``) keeps only its
SHA-256 hash. A running worker re-reads the file when it changes, so a new or
revoked token takes effect without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.api.roles import Role
from pipeline.api.tokens import TokenStore
from pipeline.config import load_config
from pipeline.errors import PipelineError

__all__ = ["token_app"]

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)

_err = Console(stderr=True, soft_wrap=True)
_out = Console(soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $AUDITWATCH_CONFIG or config/auditwatch.yaml)."
    ),
]
FileOption = Annotated[
    Path | None, typer.Option("--file", help="The tokens file (default: api.tokens_file of the config).")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _store(config: Path | None, file: Path | None) -> TokenStore:
    try:
        return TokenStore(file or load_config(config).api.tokens_file)
    except PipelineError as exc:
        raise _fail(str(exc)) from None


@token_app.command()
def create(
    role: Annotated[str, typer.Option("--role", help="viewer, responder or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who holds it; audit events name the caller so.")],
    config: ConfigOption = None,
    file: FileOption = None,
) -> None:
    """Create a token and print its secret, which is not stored and cannot be shown again."""
    try:
        Role.parse(role)
        store = _store(config, file)
        info, secret = store.create(name, role)
    except (PipelineError, ValueError) as exc:
        raise _fail(str(exc)) from None
    _err.print(
        f"token {info.id} for {info.name} ({info.role.label}) added to {store.path}; "
        "this is the only time its secret is shown:",
        highlight=False,
    )
    typer.echo(secret)


@token_app.command("list")
def list_tokens(config: ConfigOption = None, file: FileOption = None) -> None:
    """The tokens (never their secrets or hashes)."""
    try:
        tokens = _store(config, file).list()
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    table = Table("id", "name", "role", "created")
    for info in tokens:
        table.add_row(info.id, info.name, info.role.label, info.created.isoformat())
    _out.print(table)


@token_app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, from `token list`.")],
    config: ConfigOption = None,
    file: FileOption = None,
) -> None:
    """Remove a token; calls with it are refused (401) from then on."""
    try:
        revoked = _store(config, file).revoke(token_id)
    except PipelineError as exc:
        raise _fail(str(exc)) from None
    if revoked is None:
        raise _fail(f"no token with id {token_id!r} (see `auditwatch token list`)", code=1)
    _err.print(f"revoked token {revoked.id} of {revoked.name} ({revoked.role.label})", highlight=False)
