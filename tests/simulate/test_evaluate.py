from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from pipeline.cli_models import register_model_commands

ROOT = Path(__file__).absolute().parents[2]


def test_simulate_then_evaluate_writes_a_report_with_plots(tmp_path: Path) -> None:
    app = typer.Typer()
    register_model_commands(app)
    stream = tmp_path / "labelled.jsonl"
    runner = CliRunner()
    made = runner.invoke(
        app, ["simulate", "-o", str(stream), "--seed", "9", "--days", "2", "--humans", "4", "--services", "1"]
    )
    assert made.exit_code == 0, made.output
    report = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(stream),
            "--report",
            str(report),
            "--detectors",
            str(ROOT / "config/detectors"),
            "--rules",
            str(ROOT / "config/rules"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "false alerts per 10,000 events" in result.output
    assert "isolation_forest (offline)" in result.output
    page = (report / "report.html").read_text()
    assert "Per attack" in page and "scores_actor_behaviour.png" in page
    assert (report / "scores_actor_behaviour.png").read_bytes()[:4] == b"\x89PNG"
    assert (report / "pr_curves.png").exists()


def test_evaluate_names_a_bad_line(tmp_path: Path) -> None:
    app = typer.Typer()
    register_model_commands(app)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x"}\n')
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(bad),
            "--detectors",
            str(ROOT / "config/detectors"),
            "--rules",
            str(ROOT / "config/rules"),
        ],
    )
    assert result.exit_code == 2
    assert "bad.jsonl:1: not a canonical event" in result.output
