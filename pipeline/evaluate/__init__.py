"""``auditwatch evaluate``: rules and detectors over a labelled stream, with a report.

``evaluate_file`` runs the stream prequentially and measures it; ``write_report``
writes the HTML page and its PNG plots.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.evaluate.metrics import AttackFigures, Evaluation, SourceFigures, measure
from pipeline.evaluate.report import write_report
from pipeline.evaluate.run import EvaluationError, Run, read_labelled, run_stream

__all__ = [
    "AttackFigures",
    "Evaluation",
    "EvaluationError",
    "Run",
    "SourceFigures",
    "evaluate_file",
    "measure",
    "run_stream",
    "write_report",
]


def evaluate_file(path: Path, detectors: Path, rules: Path, include_disabled: bool = True) -> Evaluation:
    return measure(run_stream(read_labelled(path), detectors, rules, include_disabled=include_disabled))
