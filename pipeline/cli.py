"""The ``auditwatch`` command.

Every command turns the project's own errors into one clear message and a
non-zero exit; a traceback means a bug in auditwatch, not in the input.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console

from alerts.errors import AlertError
from detectors.errors import RuleLoadError
from detectors.models.errors import DetectorConfigError
from pipeline.cli_access import access_app
from pipeline.cli_archive import archive_app, open_replay_archive
from pipeline.cli_models import register_model_commands
from pipeline.cli_routes import alerts_app, routes_app, silence_app
from pipeline.cli_rules import check_replay, load_replay_expectations, rules_app
from pipeline.cli_schema import schema_app
from pipeline.cli_token import token_app
from pipeline.config import AuditwatchConfig, IngestConfig, load_config
from pipeline.errors import PipelineError
from pipeline.notify import build_dispatcher
from pipeline.progress import progress_bar
from pipeline.readers import read_records, total_size
from pipeline.replay import ReplayOutputs, ReplayStats, parked_writer, replay
from pipeline.stages import build_stages

__all__ = ["app", "main"]

app = typer.Typer(
    help="auditwatch: streaming detection and alerting for audit events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(rules_app, name="rules")
app.add_typer(routes_app, name="routes")
app.add_typer(silence_app, name="silence")
app.add_typer(alerts_app, name="alerts")
app.add_typer(archive_app, name="archive")
app.add_typer(schema_app, name="schema")
app.add_typer(access_app, name="access")
app.add_typer(token_app, name="token")
register_model_commands(app)

_err = Console(stderr=True, soft_wrap=True)  # one message, one line: grep- and editor-friendly
_out = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: $AUDITWATCH_CONFIG or config/auditwatch.yaml).",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _config(path: Path | None) -> AuditwatchConfig:
    try:
        return load_config(path)
    except PipelineError as exc:
        raise _fail(str(exc)) from None


@app.command()
def worker(
    config: ConfigOption = None,
    loglevel: Annotated[str, typer.Option(help="crit, error, warn, info or debug")] = "info",
) -> None:
    """Run a stream worker: ingest, detect and notify over Kafka."""
    from pipeline.worker import run_worker  # imports faust; keep other commands light

    settings = _config(config)
    try:
        run_worker(settings, loglevel)
    except (PipelineError, RuleLoadError, DetectorConfigError, AlertError) as exc:
        raise _fail(str(exc)) from None


@app.command(name="replay")
def replay_command(
    files: Annotated[list[str], typer.Argument(help="JSON-lines or log files ('-' for stdin).")],
    config: ConfigOption = None,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="Rules directory to use instead of the configured one."),
    ] = None,
    alerts_out: Annotated[
        Path | None, typer.Option("--alerts-out", help="Write alerts here as JSON lines.")
    ] = None,
    dead_letter: Annotated[
        Path | None,
        typer.Option("--dead-letter", help="Write rejected records here as JSON lines."),
    ] = None,
    parked: Annotated[
        Path | None, typer.Option("--parked", help="Write undeliverable notifications here.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    send: Annotated[bool, typer.Option(help="Send alerts to the configured sinks.")] = True,
    input_format: Annotated[
        str | None, typer.Option("--format", help="Input format: auto (default) or a format name.")
    ] = None,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Also archive events and alerts in this directory.")
    ] = None,
    expect: Annotated[
        Path | None,
        typer.Option("--expect", help="Fail unless each rule's alerts meet this expectations file."),
    ] = None,
) -> None:
    """Run the worker's ingest, rules and sinks over files, in-process, with no Kafka."""
    settings = _config(config)
    expectations = load_replay_expectations(expect) if expect is not None else None
    if input_format is not None:
        settings.ingest = _pin_format(settings, input_format)
    try:
        stages = build_stages(settings, rules_dir=rules)
    except (RuleLoadError, DetectorConfigError) as exc:
        raise _fail(str(exc)) from None
    stats = ReplayStats()
    with ExitStack() as stack:
        outputs = ReplayOutputs(
            alerts=_open(stack, alerts_out),
            dead_letters=_open(stack, dead_letter),
            parked=_open(stack, parked),
            console=_err,
            progress=progress and sys.stderr.isatty(),
            archive=open_replay_archive(stack, settings, archive) if archive is not None else None,
        )
        try:
            asyncio.run(_replay(files, settings, stages, outputs, stats, send))
        except (PipelineError, AlertError) as exc:
            raise _fail(str(exc)) from None
    _err.print(
        f"replayed {stats.records} records: {stats.events} events, {stats.dead_letters} rejected, "
        f"{stats.alerts} alerts, {stats.parked} notifications parked",
        highlight=False,
    )
    for rule, count in sorted(stats.alerts_by_rule.items()):
        _err.print(f"  {rule}: {count} alert{'s' if count != 1 else ''}", highlight=False)
    if expectations is not None:
        check_replay(expectations, stats.alerts_by_rule)


def _pin_format(settings: AuditwatchConfig, name: str) -> IngestConfig:
    try:
        return IngestConfig.model_validate({**settings.ingest.model_dump(), "format": name})
    except ValidationError as exc:
        raise _fail(
            f"--format: {exc.errors(include_url=False)[0]['msg'].removeprefix('Value error, ')}"
        ) from None


async def _replay(
    files: list[str],
    settings: AuditwatchConfig,
    stages: object,
    outputs: ReplayOutputs,
    stats: ReplayStats,
    send: bool,
) -> None:
    from pipeline.stages import Stages

    assert isinstance(stages, Stages)
    async with httpx.AsyncClient(timeout=10.0) as client:
        dispatch = None
        if send:
            dispatcher = build_dispatcher(
                settings.alerts, client, parked_writer(outputs, stats), console=_out
            )
            dispatch = dispatcher.dispatch
        await replay(files, stages, dispatch, outputs, stats=stats)


def _open(stack: ExitStack, path: Path | None) -> IO[str] | None:
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return stack.enter_context(path.open("w", encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"{path}: cannot write: {exc}") from None


@app.command()
def produce(
    files: Annotated[list[str], typer.Argument(help="Files of records, one per line ('-' for stdin).")],
    config: ConfigOption = None,
    topic: Annotated[str | None, typer.Option(help="Topic (default: the configured raw topic).")] = None,
) -> None:
    """Publish records to Kafka's raw topic exactly as they are in the files."""
    from pipeline.produce import produce_records

    settings = _config(config)
    target = topic or settings.topics.name("raw")
    with progress_bar(_err, total_size(files), enabled=sys.stderr.isatty(), label="produce") as advance:

        def records() -> Iterator[bytes]:
            for name in files:
                for record in read_records(name):
                    advance(record.size)
                    yield record.payload

        try:
            sent = asyncio.run(produce_records(settings.kafka.bootstrap, target, records()))
        except PipelineError as exc:
            raise _fail(str(exc)) from None
    _err.print(f"published {sent} records to {target} at {settings.kafka.bootstrap}", highlight=False)


def main() -> None:
    app()
