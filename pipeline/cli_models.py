"""The model commands: ``auditwatch detect-series``, ``auditwatch simulate``, ``auditwatch evaluate``.

``register_model_commands(app)`` adds them to the main ``auditwatch`` command.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console

from detectors.errors import DetectorError
from detectors.models.rate import RateDetector
from detectors.models.series import SeriesScorer

__all__ = ["detect_series", "evaluate_command", "read_series", "register_model_commands", "simulate_command"]

_err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


class SeriesError(ValueError):
    """A row of a series file that is not ``timestamp,value``."""


def read_series(handle: IO[str], name: str) -> Iterator[tuple[str, float]]:
    """``(timestamp, value)`` per row; a header row is skipped; raises ``SeriesError`` with file:line."""
    for line_no, row in enumerate(csv.reader(handle), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise SeriesError(f"{name}:{line_no}: expected 'timestamp,value', got {','.join(row)!r}")
        stamp, text = row[0].strip(), row[1].strip()
        try:
            value = float(text)
        except ValueError:
            if line_no == 1:
                continue  # header
            raise SeriesError(f"{name}:{line_no}: value {text!r} is not a number") from None
        yield stamp, value


def detect_series(
    file: Annotated[str, typer.Argument(help="CSV of timestamp,value rows ('-' for stdin).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the scored CSV here (default: stdout).")
    ] = None,
    period: Annotated[int, typer.Option(help="Rows per seasonal period (0: not seasonal).")] = 0,
    threshold: Annotated[
        float, typer.Option(help="Calibrated score at which a row counts as flagged (summary only).")
    ] = 0.9999,
    warm_up: Annotated[int, typer.Option(help="Rows before any score is given (score 0 until then).")] = 50,
) -> None:
    """Score a series with the rate detector, in streaming order: timestamp,value,anomaly_score.

    The score of a row uses only the rows before it and the row itself; it is a
    calibrated score in [0, 1] (0.9999: about once in 10,000 normal rows).
    """
    scorer = SeriesScorer(RateDetector(period=period, warm_up=10), threshold=threshold, min_count=warm_up)
    rows = flagged = 0
    try:
        source = sys.stdin if file == "-" else open(file, encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise _fail(f"{file}: cannot read: {exc}") from None
    try:
        sink = sys.stdout if output is None else output.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise _fail(f"{output}: cannot write: {exc}") from None
    try:
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(("timestamp", "value", "anomaly_score"))
        for stamp, value in read_series(source, file):
            score = scorer.score(value)
            writer.writerow((stamp, repr(value) if value != int(value) else str(int(value)), f"{score:.6f}"))
            rows += 1
            flagged += score >= threshold
    except SeriesError as exc:
        raise _fail(str(exc)) from None
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    _err.print(f"scored {rows} rows: {flagged} at or above {threshold}", highlight=False)


def simulate_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Labelled canonical events (JSON lines).")
    ] = Path("var/simulated.jsonl"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same stream.")] = 1,
    days: Annotated[int, typer.Option(help="Days of activity.")] = 7,
    humans: Annotated[int, typer.Option(help="Human users.")] = 40,
    services: Annotated[int, typer.Option(help="Service accounts.")] = 8,
    attacks: Annotated[bool, typer.Option(help="Inject the labelled attacks.")] = True,
    formats_dir: Annotated[
        Path | None,
        typer.Option("--formats-dir", help="Also write the stream in the adapters' input formats here."),
    ] = None,
) -> None:
    """Generate a seeded, labelled stream: a population's normal activity plus injected attacks."""
    from pipeline.simulate import SimulationConfig, simulate, write_formats, write_jsonl

    config = SimulationConfig(seed=seed, days=days, humans=humans, services=services, attacks=attacks)
    stream = simulate(config)
    try:
        write_jsonl(stream, output)
        written = write_formats(stream, formats_dir) if formats_dir is not None else {}
    except OSError as exc:
        raise _fail(f"cannot write the simulation: {exc}") from None
    labelled = sum(1 for item in stream.events if item.label is not None)
    _err.print(
        f"simulated {len(stream.events)} events ({labelled} labelled as attacks, "
        f"{len(stream.attacks)} attacks) to {output}",
        highlight=False,
    )
    for name, path in sorted(written.items()):
        _err.print(f"  {name}: {path}", highlight=False)


def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Labelled canonical events from 'auditwatch simulate'.")],
    report: Annotated[
        Path, typer.Option("--report", help="Directory for report.html and the PNG plots.")
    ] = Path("var/evaluation"),
    detectors: Annotated[Path, typer.Option("--detectors", help="Detector documents.")] = Path(
        "config/detectors"
    ),
    rules: Annotated[Path, typer.Option("--rules", help="Rules directory.")] = Path("config/rules"),
    all_detectors: Annotated[
        bool, typer.Option("--all", help="Also run the detectors documented as disabled (for comparison).")
    ] = True,
) -> None:
    """Run rules and detectors prequentially over a labelled stream and write a report."""
    from pipeline.evaluate import EvaluationError, evaluate_file, write_report

    try:
        result = evaluate_file(file, detectors, rules, include_disabled=all_detectors)
        paths = write_report(result, report)
    except (DetectorError, EvaluationError, OSError) as exc:
        raise _fail(str(exc)) from None
    print(result.summary_text())
    _err.print(f"report: {paths['html']}", highlight=False)


def register_model_commands(app: typer.Typer) -> None:
    app.command("detect-series")(detect_series)
    app.command("simulate")(simulate_command)
    app.command("evaluate")(evaluate_command)
